package dev.pilothouse.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.security.SecretRecord;
import dev.pilothouse.store.SqliteStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Secrets sealed in a real SQLite store, with the master key as the daemon keeps it. */
class SecretsTest {
  @TempDir Path dir;
  Instant now = Instant.parse("2026-11-30T10:00:00Z");
  final InstantSource clock = () -> now;
  final List<NewEvent> events = new ArrayList<>();
  SqliteStore store;

  Secrets secrets(SecretBox box) {
    if (store == null) {
      store = SqliteStore.open(dir.resolve("pilothouse.db"), clock);
    }
    return new Secrets(store, box, events::add, clock);
  }

  @AfterEach
  void close() {
    if (store != null) {
      store.close();
    }
  }

  @Test
  void aSetSecret_readsBack_isSealedInTheStore_andNeverInEventsOrListings() throws Exception {
    Secrets s = secrets(SecretBox.open(dir.resolve("secrets"), null));
    assertThat(s.set("db-password", "hunter2-correct-horse")).isEqualTo(1);
    assertThat(s.value("db-password")).contains("hunter2-correct-horse");
    assertThat(s.set("db-password", "second value")).isEqualTo(2);
    assertThat(s.reveal("db-password"))
        .contains(new Secrets.Revealed("db-password", 2, "second value"));
    assertThat(s.value("other")).isEmpty();

    StringBuilder raw = new StringBuilder(); // the database and its write-ahead log
    for (String f : List.of("pilothouse.db", "pilothouse.db-wal")) {
      if (Files.exists(dir.resolve(f))) {
        raw.append(new String(Files.readAllBytes(dir.resolve(f)), StandardCharsets.ISO_8859_1));
      }
    }
    assertThat(raw)
        .contains("db-password")
        .doesNotContain("hunter2")
        .doesNotContain("second value");
    assertThat(events).extracting(NewEvent::type).containsExactly("SecretSet", "SecretSet");
    assertThat(events.toString()).doesNotContain("hunter2").doesNotContain("second value");
    assertThat(s.list().toString()).doesNotContain("second value");
    assertThat(s.list()).extracting(Secrets.View::version).containsExactly(2);
    // the current and the one before are kept, older ones dropped
    assertThat(s.record("db-password").orElseThrow().versions())
        .extracting(SecretRecord.Version::number, SecretRecord.Version::stage)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(2, SecretRecord.Stage.CURRENT),
            org.assertj.core.groups.Tuple.tuple(1, SecretRecord.Stage.PREVIOUS));
    s.set("db-password", "third");
    assertThat(s.record("db-password").orElseThrow().versions())
        .extracting(SecretRecord.Version::number)
        .containsExactly(3, 2);

    s.delete("db-password");
    assertThat(s.value("db-password")).isEmpty();
    assertThatThrownBy(() -> s.delete("db-password"))
        .isInstanceOf(Secrets.SecretException.class)
        .hasMessageContaining("no secret named 'db-password'");
  }

  @Test
  void theMasterKeyFile_isOwnerOnly_survivesRestarts_andAnExposedOrWrongKeyIsRefused()
      throws Exception {
    Path keys = dir.resolve("secrets");
    secrets(SecretBox.open(keys, null)).set("api-key", "abc123");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keys)))
        .isEqualTo("rwx------");
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(keys.resolve(SecretBox.KEY_FILE))))
        .isEqualTo("rw-------");
    assertThat(Files.size(keys.resolve(SecretBox.KEY_FILE))).isEqualTo(32);

    // a restarted daemon opens what the last one sealed
    assertThat(secrets(SecretBox.open(keys, null)).value("api-key")).contains("abc123");

    Files.setPosixFilePermissions(
        keys.resolve(SecretBox.KEY_FILE), PosixFilePermissions.fromString("rw-r--r--"));
    assertThatThrownBy(() -> SecretBox.open(keys, null))
        .isInstanceOf(SecretBox.SealException.class)
        .hasMessageContaining("can be read or written by other users")
        .hasMessageContaining("chmod 600");
    Files.setPosixFilePermissions(
        keys.resolve(SecretBox.KEY_FILE), PosixFilePermissions.fromString("rw-------"));

    // another key (a passphrase now, or a replaced key file) is told apart from damage
    assertThatThrownBy(() -> SecretBox.open(keys, "a passphrase"))
        .isInstanceOf(SecretBox.SealException.class)
        .hasMessageContaining("not the one the secrets were sealed with");
    byte[] other = new byte[32];
    other[0] = 1;
    Files.write(keys.resolve(SecretBox.KEY_FILE), other);
    assertThatThrownBy(() -> SecretBox.open(keys, null))
        .isInstanceOf(SecretBox.SealException.class)
        .hasMessageContaining("is not the one the secrets were sealed with");
  }

  @Test
  void aPassphrase_derivesTheSameKeyAgain_andAWrongOneIsRefused() {
    Path keys = dir.resolve("secrets");
    Secrets s = secrets(SecretBox.open(keys, "correct horse battery staple"));
    s.set("token", "value-1");
    assertThat(Files.exists(keys.resolve(SecretBox.KEY_FILE))).isFalse();
    assertThat(secrets(SecretBox.open(keys, "correct horse battery staple")).value("token"))
        .contains("value-1");
    assertThatThrownBy(() -> SecretBox.open(keys, "wrong horse"))
        .isInstanceOf(SecretBox.SealException.class)
        .hasMessageContaining("PILOTHOUSE_SECRETS_PASSPHRASE");
  }

  @Test
  void aSealedValue_opensOnlyForItsOwnNameAndVersion_andAnyChangedByteIsDetected() {
    byte[] key = new byte[32];
    SecretBox box = SecretBox.of(key);
    String sealed = box.seal("a", 1, "value");
    assertThat(box.open("a", 1, sealed)).isEqualTo("value");
    assertThat(sealed).doesNotContain("value");
    // copied to another secret or version (a swap in the database): refused
    assertThatThrownBy(() -> box.open("b", 1, sealed)).isInstanceOf(SecretBox.SealException.class);
    assertThatThrownBy(() -> box.open("a", 2, sealed)).isInstanceOf(SecretBox.SealException.class);
    // each position of the body changed in turn
    for (int i = 3; i < sealed.length(); i++) {
      char c = sealed.charAt(i);
      if (c == ':') {
        continue;
      }
      String changed = sealed.substring(0, i) + (c == 'A' ? 'B' : 'A') + sealed.substring(i + 1);
      assertThatThrownBy(() -> box.open("a", 1, changed))
          .as("byte %d changed", i)
          .isInstanceOf(SecretBox.SealException.class);
    }
    assertThatThrownBy(() -> SecretBox.of(key(7)).open("a", 1, sealed))
        .isInstanceOf(SecretBox.SealException.class)
        .hasMessageContaining("does not open with this master key");
    // the same value sealed twice differs (a fresh data key and nonce each time)
    assertThat(box.seal("a", 1, "value")).isNotEqualTo(sealed);
  }

  private static byte[] key(int first) {
    byte[] k = new byte[32];
    k[0] = (byte) first;
    return k;
  }

  @Test
  void badNamesValuesAndTheLimits_areRefusedWithTheField() {
    Secrets s = secrets(SecretBox.of(new byte[32]));
    assertThatThrownBy(() -> s.set("../etc/passwd", "x"))
        .isInstanceOf(Secrets.SecretException.class)
        .hasMessageStartingWith("name: '../etc/passwd' is not a secret name");
    assertThatThrownBy(() -> s.set("Upper", "x")).isInstanceOf(Secrets.SecretException.class);
    assertThatThrownBy(() -> s.set("ok", ""))
        .isInstanceOf(Secrets.SecretException.class)
        .hasMessageStartingWith("value: empty");
    assertThatThrownBy(() -> s.set("ok", "x".repeat(Secrets.MAX_VALUE_BYTES + 1)))
        .isInstanceOf(Secrets.SecretException.class)
        .hasMessageContaining("larger than 64 KiB");
    assertThat(s.set("ok", "x".repeat(Secrets.MAX_VALUE_BYTES))).isEqualTo(1);
    assertThat(s.list()).hasSize(1);
  }
}
