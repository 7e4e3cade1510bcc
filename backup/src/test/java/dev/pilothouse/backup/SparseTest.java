package dev.pilothouse.backup;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SparseTest {
  @TempDir Path tmp;

  private static long blocks(Path p) throws Exception {
    Process pr = new ProcessBuilder("stat", "-c", "%b", p.toString()).start();
    String out = new String(pr.getInputStream().readAllBytes()).strip();
    pr.waitFor();
    return Long.parseLong(out);
  }

  @Test
  void a_sparse_file_restores_sparse_and_whole() throws Exception {
    Path src = tmp.resolve("src");
    Files.createDirectories(src);
    Path sparse = src.resolve("disk.img");
    try (RandomAccessFile f = new RandomAccessFile(sparse.toFile(), "rw")) {
      f.setLength(64L << 20);
      f.seek(10L << 20);
      f.write("data in the middle".getBytes());
    }
    try (Repository r = TestRepos.init(new LocalBackend(tmp.resolve("repo")))) {
      Snapshot s = TestRepos.backup(r, src, null);
      // 64 MiB of zeros deduplicate into a handful of chunks
      assertThat(s.summary().bytesAdded()).isLessThan(1 << 20);
      Path out = tmp.resolve("out");
      Restorer.restore(r, s, out, false, new Restorer.Counters());
      Path restored = out.resolve(sparse.toString().substring(1));
      assertThat(Files.size(restored)).isEqualTo(64L << 20);
      assertThat(Crypto.sha256(Files.readAllBytes(restored)))
          .isEqualTo(Crypto.sha256(Files.readAllBytes(sparse)));
      // 512-byte blocks: far fewer than 64 MiB's 131072
      assertThat(blocks(restored)).isLessThan(2048);
    }
  }
}
