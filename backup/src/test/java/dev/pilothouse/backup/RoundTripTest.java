package dev.pilothouse.backup;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RoundTripTest {
  @TempDir Path tmp;

  @Test
  void a_tree_backed_up_restores_byte_for_byte_and_an_unchanged_rerun_adds_nothing()
      throws Exception {
    Path src = tmp.resolve("src");
    Files.createDirectories(src.resolve("a/b"));
    byte[] big = new byte[5 << 20];
    new Random(1).nextBytes(big);
    Files.write(src.resolve("a/big.bin"), big);
    Files.writeString(src.resolve("a/b/small.txt"), "hello");
    Files.write(src.resolve("empty"), new byte[0]);
    Files.createSymbolicLink(src.resolve("link"), Path.of("a/b/small.txt"));
    LocalBackend backend = new LocalBackend(tmp.resolve("repo"));
    Keys.Secret pw = Keys.Secret.password("correct horse");
    try (Repository repo = Repository.init(backend, pw, Keys.Kdf.TEST, Clock.systemUTC())) {
      Archiver.Result r =
          Archiver.backup(repo, "shop", List.of(src), List.of(), null, new Archiver.Counters());
      assertThat(r.warnings()).isEmpty();
      assertThat(r.snapshot().summary().files()).isEqualTo(4);
      assertThat(r.snapshot().summary().bytesAdded()).isGreaterThanOrEqualTo(5 << 20);
    }
    try (Repository repo = Repository.open(backend, pw, Clock.systemUTC())) {
      Snapshot first = repo.snapshot("latest", "shop");
      Archiver.Result again =
          Archiver.backup(repo, "shop", List.of(src), List.of(), first, new Archiver.Counters());
      assertThat(again.snapshot().summary().bytesAdded()).isZero();
      assertThat(again.snapshot().summary().bytesRead()).isZero();
      assertThat(again.snapshot().tree()).isEqualTo(first.tree());
      Path out = tmp.resolve("out");
      Restorer.restore(repo, again.snapshot(), out, false, new Restorer.Counters());
      Path restored = out.resolve(src.toString().substring(1));
      assertThat(Files.readAllBytes(restored.resolve("a/big.bin"))).isEqualTo(big);
      assertThat(Files.readString(restored.resolve("a/b/small.txt"))).isEqualTo("hello");
      assertThat(Files.size(restored.resolve("empty"))).isZero();
      assertThat(Files.readSymbolicLink(restored.resolve("link")))
          .isEqualTo(Path.of("a/b/small.txt"));
    }
  }
}
