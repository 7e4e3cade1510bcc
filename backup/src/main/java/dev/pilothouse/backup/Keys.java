package dev.pilothouse.backup;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Base64;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;

/**
 * The key files under {@code keys/}: each wraps the repository's master key under a key derived
 * from a password (Argon2id) or taken from a key file (HMAC-SHA-256 of it), so that a password can
 * be added or changed without re-encrypting anything.
 */
public final class Keys {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Where the secret that opens a repository comes from. */
  public record Secret(byte[] bytes, boolean keyFile) {
    public static Secret password(String password) {
      return new Secret(password.getBytes(StandardCharsets.UTF_8), false);
    }

    public static Secret key(byte[] key) {
      return new Secret(key.clone(), true);
    }
  }

  /** Argon2id's cost: memory in KiB, passes, lanes. */
  public record Kdf(int memoryKiB, int iterations, int parallelism) {
    /** OWASP's first recommended Argon2id setting: 46 MiB, one pass, one lane. */
    public static final Kdf DEFAULT = new Kdf(46 * 1024, 1, 1);

    /** For tests only: fast and weak. */
    public static final Kdf TEST = new Kdf(1024, 1, 1);
  }

  /** A key file as stored (JSON). */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record KeyFile(
      String kdf,
      Integer memoryKiB,
      Integer iterations,
      Integer parallelism,
      String salt,
      String data,
      String created,
      String host) {}

  private Keys() {}

  /** A key file for master under secret. */
  public static byte[] wrap(byte[] master, Secret secret, Kdf kdf, Instant now, String host) {
    byte[] salt = new byte[32];
    new SecureRandom().nextBytes(salt);
    KeyFile k =
        secret.keyFile()
            ? new KeyFile("hmac-sha256", null, null, null, b64(salt), null, now.toString(), host)
            : new KeyFile(
                "argon2id",
                kdf.memoryKiB(),
                kdf.iterations(),
                kdf.parallelism(),
                b64(salt),
                null,
                now.toString(),
                host);
    byte[] kek = derive(k, salt, secret);
    byte[] sealed =
        Crypto.seal(
            new SecretKeySpec(kek, "AES"),
            master,
            0,
            master.length,
            new SecureRandom(),
            Crypto.newCipher());
    k =
        new KeyFile(
            k.kdf(),
            k.memoryKiB(),
            k.iterations(),
            k.parallelism(),
            k.salt(),
            b64(sealed),
            k.created(),
            k.host());
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(k);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The master key in a key file, or null when secret does not open it.
   *
   * @throws BackupException when the file is not a key file
   */
  public static byte[] unwrap(byte[] file, Secret secret, String name) {
    KeyFile k;
    try {
      k = JSON.readValue(file, KeyFile.class);
    } catch (IOException e) {
      throw new BackupException("keys/" + name + " is not a key file: " + e.getMessage(), e);
    }
    if (k.salt() == null || k.data() == null || k.kdf() == null) {
      throw new BackupException("keys/" + name + " lacks kdf, salt or data");
    }
    boolean fileKdf = "hmac-sha256".equals(k.kdf());
    if (fileKdf != secret.keyFile()) {
      return null;
    }
    byte[] kek = derive(k, Base64.getDecoder().decode(k.salt()), secret);
    byte[] sealed = Base64.getDecoder().decode(k.data());
    try {
      return Crypto.open(
          new SecretKeySpec(kek, "AES"), sealed, 0, sealed.length, Crypto.newCipher());
    } catch (BackupException wrongSecret) {
      return null;
    }
  }

  private static byte[] derive(KeyFile k, byte[] salt, Secret secret) {
    if ("hmac-sha256".equals(k.kdf())) {
      try {
        javax.crypto.Mac m = javax.crypto.Mac.getInstance("HmacSHA256");
        m.init(new SecretKeySpec(salt, "HmacSHA256"));
        return m.doFinal(secret.bytes());
      } catch (java.security.GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    }
    if (!"argon2id".equals(k.kdf())) {
      throw new BackupException(
          "key file uses kdf '" + k.kdf() + "', which this version does not know");
    }
    if (k.memoryKiB() == null
        || k.iterations() == null
        || k.parallelism() == null
        || k.memoryKiB() < 8
        || k.memoryKiB() > 4 * 1024 * 1024
        || k.iterations() < 1
        || k.iterations() > 100
        || k.parallelism() < 1
        || k.parallelism() > 64) {
      throw new BackupException("key file has Argon2id parameters out of range");
    }
    Argon2BytesGenerator gen = new Argon2BytesGenerator();
    gen.init(
        new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
            .withVersion(Argon2Parameters.ARGON2_VERSION_13)
            .withMemoryAsKB(k.memoryKiB())
            .withIterations(k.iterations())
            .withParallelism(k.parallelism())
            .withSalt(salt)
            .build());
    byte[] out = new byte[32];
    gen.generateBytes(secret.bytes(), out);
    return out;
  }

  private static String b64(byte[] b) {
    return Base64.getEncoder().encodeToString(b);
  }
}
