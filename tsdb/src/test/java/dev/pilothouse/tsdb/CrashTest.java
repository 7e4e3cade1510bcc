package dev.pilothouse.tsdb;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kill -9 during ingestion: every sample acknowledged more than a second before is there. */
class CrashTest {
  @TempDir Path dir;

  @Test
  void killedDuringIngestion_losesAtMostTheLastSecond() throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    Process p =
        new ProcessBuilder(
                java,
                "-Xmx256m",
                "-cp",
                System.getProperty("java.class.path"),
                IngestMain.class.getName(),
                dir.toString())
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    long lastAckedStep = -1;
    long lastAckedAt = 0;
    long[] acks = new long[100_000];
    long[] ackTimes = new long[100_000];
    int n = 0;
    long killAt;
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      long start = System.currentTimeMillis();
      String line;
      while ((line = in.readLine()) != null && System.currentTimeMillis() - start < 4000) {
        String[] f = line.split(" ");
        if (n < acks.length) {
          acks[n] = Long.parseLong(f[1]);
          ackTimes[n] = Long.parseLong(f[2]);
          n++;
        }
      }
      killAt = System.currentTimeMillis();
      p.destroyForcibly(); // SIGKILL
      assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    }
    for (int i = 0; i < n; i++) {
      if (ackTimes[i] <= killAt - 1000) {
        lastAckedStep = acks[i];
        lastAckedAt = ackTimes[i];
      }
    }
    assertThat(n).as("the ingester ran").isGreaterThan(10);
    assertThat(lastAckedStep).as("acknowledged more than a second before the kill").isPositive();
    try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults())) {
      List<Series> all =
          db.select(
              0,
              Long.MAX_VALUE,
              List.of(Matcher.eq("__name__", "crash_test")),
              QueryBudget.unlimited());
      assertThat(all).hasSize(10);
      for (Series s : all) {
        assertThat(s.size())
            .as(
                "%s: steps 0..%d acked at %d, killed at %d",
                s.labels(), lastAckedStep, lastAckedAt, killAt)
            .isGreaterThan((int) lastAckedStep);
        for (int i = 0; i <= lastAckedStep; i++) {
          assertThat(s.t()[i]).isEqualTo(i);
          assertThat(s.v()[i]).isEqualTo(i);
        }
      }
    }
  }
}
