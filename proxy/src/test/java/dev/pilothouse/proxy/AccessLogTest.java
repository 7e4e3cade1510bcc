package dev.pilothouse.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The batched access log: every line from every thread, valid JSON strings, exact times. */
class AccessLogTest {

  /** The duration field reads as Double.toString wrote it (below 10^7 ms, where it goes to E). */
  @net.jqwik.api.Property(tries = 2000)
  void durations_readAsDoubleToStringWroteThem(
      @net.jqwik.api.ForAll @net.jqwik.api.constraints.LongRange(min = 0, max = 9_999_999_999L)
          long micros) {
    StringBuilder b = new StringBuilder();
    AccessLog.millis(b, micros);
    assertThat(b).hasToString(Double.toString(micros / 1000.0));
  }

  @TempDir Path dir;

  @Test
  void theProxysLines_nameTheInstanceRouteAndTraceparentOfEachRequest() throws Exception {
    Path file = dir.resolve("access.log");
    try (TestBackend a = new TestBackend("a");
        TestBackend b = new TestBackend("b");
        DataPlane dp =
            DataPlane.start(
                HardeningTest.options(file, 100L << 20, List.of(), Duration.ofSeconds(30)))) {
      dp.update(
          RouteTable.of(
              List.of(
                  Route.simple("ra", "/a", List.of(a.backend("v1")), RoutePolicy.defaults()),
                  Route.simple("rb", "/b", List.of(b.backend("v2")), RoutePolicy.defaults()))));
      // one connection, so the fields that repeat are reused and must change when they change
      String raw =
          RawHttp.exchange(
              dp.port(),
              "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"
                  + "GET /none HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      assertThat(raw).contains("404");
      String traceB = b.lastHeaders.get("traceparent");
      await() // lines are handed to the writer every 200 ms
          .atMost(Duration.ofSeconds(5))
          .until(() -> Files.exists(file) && Files.readAllLines(file).size() == 3);
      List<String> lines = Files.readAllLines(file);
      assertThat(lines.get(0)).contains("\"route\":\"ra\",\"instance\":\"a\",\"version\":\"v1\"");
      assertThat(lines.get(1))
          .contains("\"route\":\"rb\",\"instance\":\"b\",\"version\":\"v2\"")
          .contains("\"traceparent\":\"" + traceB + "\"");
      assertThat(lines.get(2))
          .contains("\"status\":404,")
          .contains("\"route\":\"\",\"instance\":\"\"")
          .contains("\"traceparent\":\"\"}");
    }
  }

  @Test
  void linesFromSeveralThreads_allArrive_onceEach() throws Exception {
    Path file = dir.resolve("access.log");
    AccessLog log = new AccessLog(file, 1.0, 100L << 20, 2);
    Thread[] threads = new Thread[4];
    for (int t = 0; t < threads.length; t++) {
      int id = t;
      threads[t] =
          Thread.ofPlatform()
              .start(
                  () -> {
                    for (int i = 0; i < 5000; i++) {
                      int n = i;
                      log.log(
                          b ->
                              b.append("{\"t\":")
                                  .append(id)
                                  .append(",\"i\":")
                                  .append(n)
                                  .append('}'));
                    }
                    log.flushThisThread();
                  });
    }
    for (Thread t : threads) {
      t.join();
    }
    log.close();
    List<String> lines = Files.readAllLines(file);
    assertThat(lines).hasSize(20_000).doesNotHaveDuplicates();
    assertThat(log.dropped()).isZero();
  }

  @Test
  void timesAreIso8601WithMilliseconds_andFieldsAreEscaped() throws Exception {
    Path file = dir.resolve("access.log");
    AccessLog log = new AccessLog(file, 1.0, 100L << 20, 2);
    long[] times = {0, 1_700_000_000_000L, 1_700_000_040_007L, 1_700_000_059_999L};
    for (long t : times) {
      log.log(
          b -> {
            b.append("{\"time\":\"");
            log.time(b, t);
            b.append('"');
            AccessLog.field(b, "path", "/a\"b\\c\nd\u0001é");
            b.append('}');
          });
    }
    log.flushThisThread();
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> Files.exists(file) && Files.readAllLines(file).size() == times.length);
    log.close();
    List<String> lines = Files.readAllLines(file);
    for (int i = 0; i < times.length; i++) {
      String line = lines.get(i);
      String time = line.substring(9, line.indexOf('"', 9));
      assertThat(time).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
      assertThat(Instant.parse(time).toEpochMilli()).isEqualTo(times[i]);
      assertThat(line).endsWith(",\"path\":\"/a\\\"b\\\\c\\u000ad\\u0001é\"}");
    }
  }
}
