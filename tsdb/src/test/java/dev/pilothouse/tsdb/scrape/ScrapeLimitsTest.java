package dev.pilothouse.tsdb.scrape;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.pilothouse.tsdb.LabelLimits;
import dev.pilothouse.tsdb.Labels;
import dev.pilothouse.tsdb.Tsdb;
import java.io.BufferedReader;
import java.io.OutputStream;
import java.io.Reader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A scrape is bounded in bytes, samples, labels and time, and one target never stalls another. */
class ScrapeLimitsTest {
  @TempDir Path dir;

  @Test
  void sampleLimit_stopsReadingAtTheFirstSampleOverIt() throws Exception {
    AtomicInteger read = new AtomicInteger();
    // An endless body: only a parser that stops at the limit returns.
    Reader endless =
        new Reader() {
          @Override
          public int read(char[] buf, int off, int len) {
            byte[] line = ("m{i=\"" + read.incrementAndGet() + "\"} 1\n").getBytes();
            int n = Math.min(len, line.length);
            for (int i = 0; i < n; i++) {
              buf[off + i] = (char) line[i];
            }
            return n;
          }

          @Override
          public void close() {}
        };
    assertThatThrownBy(
            () ->
                Exposition.parse(
                    new BufferedReader(endless, 64), false, new Exposition.Limits(0, 1000)))
        .isInstanceOf(Exposition.LimitException.class)
        .hasMessageContaining("sample limit exceeded: more than 1000 samples");
    assertThat(read.get()).isLessThan(5000);
  }

  @Test
  void hugeBody_failsTheScrapeAtTheLimit_slowTarget_doesNotDelayOthers() throws Exception {
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    AtomicInteger fastScrapes = new AtomicInteger();
    server.createContext(
        "/huge",
        ex -> {
          ex.sendResponseHeaders(200, 0);
          try (OutputStream o = ex.getResponseBody()) {
            byte[] line = "big_metric{a=\"xxxxxxxxxxxxxxxx\"} 1\n".getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < 1_000_000; i++) { // 36 MB unless the client hangs up
              o.write(line);
            }
          } catch (java.io.IOException hungUp) {
            // the scraper stopped reading: what the test wants
          }
        });
    server.createContext(
        "/stall",
        ex -> {
          ex.sendResponseHeaders(200, 0);
          try {
            ex.getResponseBody().write("stalled 1\n".getBytes(StandardCharsets.UTF_8));
            ex.getResponseBody().flush();
            Thread.sleep(20_000);
          } catch (InterruptedException | java.io.IOException e) {
            // ends with the server
          }
          ex.close();
        });
    server.createContext(
        "/fast",
        ex -> {
          fastScrapes.incrementAndGet();
          byte[] b = "fast 1\n".getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, b.length);
          ex.getResponseBody().write(b);
          ex.close();
        });
    server.start();
    String base = "http://127.0.0.1:" + server.getAddress().getPort();
    try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults());
        Scraper s = new Scraper(db, InstantSource.system())) {
      s.limit(LabelLimits.defaults(), 1 << 20);
      s.setTargets(
          List.of(
              target("huge", base + "/huge", Duration.ofSeconds(5)),
              target("stall", base + "/stall", Duration.ofSeconds(1)),
              target("fast", base + "/fast", Duration.ofSeconds(1))));
      await()
          .atMost(Duration.ofSeconds(15))
          .until(
              () ->
                  health(s, "huge").lastError().startsWith("body size limit exceeded")
                      && health(s, "stall").lastError().contains("within 1000 ms")
                      && fastScrapes.get() >= 8);
      assertThat(health(s, "fast").up()).isTrue();
    } finally {
      server.stop(0);
    }
  }

  @Test
  void scrapedLabelsOverTheLimits_failTheScrape() throws Exception {
    try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults());
        Scraper s = new Scraper(db, InstantSource.system())) {
      s.limit(new LabelLimits(64, 256, 10), 1 << 20);
      s.setTargets(
          List.of(
              new Scraper.Target(
                  "t",
                  Labels.of("job", "t"),
                  Scraper.inProcess(() -> "m{v=\"0123456789abc\"} 1\n"),
                  Duration.ofMillis(100),
                  Duration.ofSeconds(1),
                  0)));
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> health(s, "t").lastError().startsWith("label limit exceeded"));
      assertThat(health(s, "t").up()).isFalse();
    }
  }

  private static Scraper.Target target(String key, String url, Duration timeout) {
    return new Scraper.Target(
        key,
        Labels.of("job", key),
        Scraper.http(URI.create(url)),
        Duration.ofMillis(200),
        timeout,
        0);
  }

  private static Scraper.Health health(Scraper s, String key) {
    return s.health().stream().filter(h -> h.key().equals(key)).findFirst().orElseThrow();
  }
}
