package dev.pilothouse.tsdb.scrape;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.pilothouse.tsdb.Labels;
import dev.pilothouse.tsdb.Matcher;
import dev.pilothouse.tsdb.QueryBudget;
import dev.pilothouse.tsdb.Series;
import dev.pilothouse.tsdb.StaleNaN;
import dev.pilothouse.tsdb.Tsdb;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Exposition parsing, scraping a real HTTP endpoint, and the host collector on this machine. */
class ScrapeTest {
  @TempDir Path dir;

  @Test
  void parsesThePrometheusTextFormat_andOpenMetrics() {
    String prom =
        "# HELP http_requests_total The total.\n"
            + "# TYPE http_requests_total counter\n"
            + "http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n"
            + "http_requests_total{method=\"post\",code=\"400\"}    3 1395066363000\n"
            + "msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\FILE.TXT\",error=\"Cannot find file:\\n\\\"FILE.TXT\\\"\"} 1.458255915e9\n"
            + "metric_without_timestamp_and_labels 12.47\n"
            + "something_weird{problem=\"division by zero\"} +Inf -3982045\n"
            + "nan_metric NaN\n";
    Exposition.Result r = Exposition.parse(prom, false);
    assertThat(r.samples()).hasSize(6);
    assertThat(r.samples().get(0).labels())
        .isEqualTo(Labels.of("__name__", "http_requests_total", "method", "post", "code", "200"));
    assertThat(r.samples().get(0).timestampMs()).isEqualTo(1395066363000L);
    assertThat(r.samples().get(2).labels().get("path")).isEqualTo("C:\\DIR\\FILE.TXT");
    assertThat(r.samples().get(2).labels().get("error"))
        .isEqualTo("Cannot find file:\n\"FILE.TXT\"");
    assertThat(r.samples().get(3).timestampMs()).isNull();
    assertThat(r.samples().get(4).value()).isInfinite();
    assertThat(r.samples().get(5).value()).isNaN();
    assertThat(r.metadata().get("http_requests_total"))
        .isEqualTo(new Exposition.Metadata("counter", "The total.", ""));

    String om =
        "# TYPE foo counter\n# UNIT foo seconds\n"
            + "foo_total{a=\"b\"} 17.0 1520879607.789 # {trace_id=\"KOO5S4vxi0o\"} 0.67\n"
            + "foo_created{a=\"b\"} 1520872607.123\n# EOF\n";
    Exposition.Result o = Exposition.parse(om, false);
    assertThat(o.samples().get(0).timestampMs()).isEqualTo(1520879607789L);
    assertThat(o.samples().get(0).value()).isEqualTo(17.0);
    assertThat(o.metadata().get("foo").unit()).isEqualTo("seconds");
  }

  @Test
  void badExposition_namesTheLine() {
    assertThatThrownBy(() -> Exposition.parse("ok 1\nbad{a=b} 1\n", false))
        .hasMessage("line 2: label value of 'a' must be quoted");
    assertThatThrownBy(() -> Exposition.parse("x one\n", false))
        .hasMessage("line 1: invalid value 'one'");
  }

  @Test
  void scrapesAnHttpTarget_withUpAndDuration_andMarksVanishedSeriesStale() throws Exception {
    AtomicReference<String> body =
        new AtomicReference<>("requests_total{path=\"/a\"} 5\nrequests_total{path=\"/b\"} 7\n");
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
    server.createContext(
        "/metrics",
        ex -> {
          byte[] b = body.get().getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, b.length);
          ex.getResponseBody().write(b);
          ex.close();
        });
    server.start();
    try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults());
        Scraper s = new Scraper(db, InstantSource.system())) {
      Labels target = Labels.of("job", "shop", "instance", "shop-1");
      java.util.function.IntFunction<List<Scraper.Target>> shop =
          sampleLimit ->
              List.of(
                  new Scraper.Target(
                      "shop-1",
                      target,
                      Scraper.http(
                          URI.create(
                              "http://127.0.0.1:" + server.getAddress().getPort() + "/metrics")),
                      Duration.ofMillis(200),
                      Duration.ofSeconds(2),
                      sampleLimit));
      s.setTargets(shop.apply(100));
      await().atMost(Duration.ofSeconds(10)).until(() -> values(db, "up").length >= 2);
      assertThat(values(db, "up")).containsOnly(1.0);
      assertThat(values(db, "scrape_samples_scraped")).contains(2.0);
      Series a = one(db, "requests_total", "path", "/a");
      assertThat(a.labels())
          .isEqualTo(
              Labels.of(
                  "__name__", "requests_total", "path", "/a", "job", "shop", "instance", "shop-1"));
      body.set("requests_total{path=\"/a\"} 6\n");
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () -> {
                double[] b = one(db, "requests_total", "path", "/b").v();
                return StaleNaN.is(b[b.length - 1]);
              });
      body.set("a 1\nb 1\nc 1\n");
      s.setTargets(shop.apply(2));
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  s.health()
                      .get(0)
                      .lastError()
                      .startsWith("sample limit exceeded: more than 2 samples"));
      double[] up = values(db, "up");
      assertThat(up[up.length - 1]).isZero();
    } finally {
      server.stop(0);
    }
  }

  @Test
  void aRemovedTarget_endsEverySeriesItWrote_upAmongThem() throws Exception {
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
    java.util.concurrent.atomic.AtomicBoolean answering =
        new java.util.concurrent.atomic.AtomicBoolean(true);
    server.createContext(
        "/metrics",
        ex -> {
          byte[] b = "requests_total 5\n".getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(answering.get() ? 200 : 503, b.length);
          ex.getResponseBody().write(b);
          ex.close();
        });
    server.start();
    try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults());
        Scraper s = new Scraper(db, InstantSource.system())) {
      s.setTargets(
          List.of(
              new Scraper.Target(
                  "shop-1",
                  Labels.of("job", "shop", "instance", "shop-1"),
                  Scraper.http(
                      URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/metrics")),
                  Duration.ofMillis(100),
                  Duration.ofSeconds(2),
                  100)));
      await().atMost(Duration.ofSeconds(10)).until(() -> values(db, "up").length >= 1);
      // The instance is going away: its last scrape fails, then it is no longer a target.
      answering.set(false);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> values(db, "up")[values(db, "up").length - 1] == 0);
      s.setTargets(List.of());
      for (String name :
          List.of("up", "scrape_duration_seconds", "scrape_samples_scraped", "requests_total")) {
        double[] v = values(db, name);
        assertThat(StaleNaN.is(v[v.length - 1]))
            .as(name + " ends with a staleness marker")
            .isTrue();
      }
      Thread.sleep(300); // a scrape that was under way writes nothing after the markers
      double[] up = values(db, "up");
      assertThat(StaleNaN.is(up[up.length - 1])).isTrue();
    } finally {
      server.stop(0);
    }
  }

  @Test
  void aTargetThatChangesItsLabels_endsTheOldSeriesAtItsFirstScrape_andOneThatKeepsThemContinues()
      throws Exception {
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
    server.createContext(
        "/metrics",
        ex -> {
          byte[] b = "requests_total 5\n".getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, b.length);
          ex.getResponseBody().write(b);
          ex.close();
        });
    server.start();
    URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/metrics");
    java.util.function.BiFunction<Labels, Duration, Scraper.Target> target =
        (labels, interval) ->
            new Scraper.Target(
                "shop-1", labels, Scraper.http(uri), interval, Duration.ofSeconds(2), 100);
    Labels v1 = Labels.of("job", "shop", "instance", "shop-1", "version", "v1");
    Labels v2 = Labels.of("job", "shop", "instance", "shop-1", "version", "v2");
    try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults());
        Scraper s = new Scraper(db, InstantSource.system())) {
      s.setTargets(List.of(target.apply(v1, Duration.ofMillis(100))));
      await().atMost(Duration.ofSeconds(10)).until(() -> count(db, "up", "v1") >= 2);
      // Only the interval changes: the same series go on, with no marker between.
      s.setTargets(List.of(target.apply(v1, Duration.ofMillis(150))));
      int before = count(db, "up", "v1");
      await().atMost(Duration.ofSeconds(10)).until(() -> count(db, "up", "v1") >= before + 2);
      for (String name : List.of("up", "requests_total")) {
        assertThat(java.util.Arrays.stream(one(db, name, "version", "v1").v()).boxed())
            .as(name + " goes on without a marker")
            .noneMatch(StaleNaN::is);
      }
      // The labels change (a new version under the same key): the old series end.
      s.setTargets(List.of(target.apply(v2, Duration.ofMillis(100))));
      await().atMost(Duration.ofSeconds(10)).until(() -> count(db, "up", "v2") >= 1);
      for (String name :
          List.of("up", "scrape_duration_seconds", "scrape_samples_scraped", "requests_total")) {
        double[] old = one(db, name, "version", "v1").v();
        assertThat(StaleNaN.is(old[old.length - 1]))
            .as(name + "{version=v1} ends with a staleness marker")
            .isTrue();
        assertThat(java.util.Arrays.stream(one(db, name, "version", "v2").v()).boxed())
            .as(name + "{version=v2} is live")
            .noneMatch(StaleNaN::is);
      }
    } finally {
      server.stop(0);
    }
  }

  static int count(Tsdb db, String name, String version) {
    List<Series> s =
        db.select(
            0,
            Long.MAX_VALUE,
            List.of(Matcher.eq("__name__", name), Matcher.eq("version", version)),
            QueryBudget.unlimited());
    return s.isEmpty() ? 0 : s.get(0).v().length;
  }

  static double[] values(Tsdb db, String name) {
    List<Series> s =
        db.select(
            0, Long.MAX_VALUE, List.of(Matcher.eq("__name__", name)), QueryBudget.unlimited());
    return s.isEmpty() ? new double[0] : s.get(0).v();
  }

  static Series one(Tsdb db, String name, String l, String v) {
    return db.select(
            0,
            Long.MAX_VALUE,
            List.of(Matcher.eq("__name__", name), Matcher.eq(l, v)),
            QueryBudget.unlimited())
        .get(0);
  }

  @Test
  void hostCollector_readsThisMachine() {
    long self = ProcessHandle.current().pid();
    HostCollector c =
        new HostCollector(
            Path.of("/proc"), () -> List.of(new HostCollector.Proc("test", "me", self, "v7")));
    Exposition.Result r = Exposition.parse(c.text(), false);
    List<String> names = r.samples().stream().map(s -> s.labels().metricName()).distinct().toList();
    assertThat(names)
        .contains(
            "node_cpu_seconds_total",
            "node_memory_MemAvailable_bytes",
            "node_load1",
            "node_filesystem_avail_bytes",
            "node_network_receive_bytes_total",
            "pilothouse_instance_cpu_seconds_total",
            "pilothouse_instance_resident_memory_bytes");
    double rss =
        r.samples().stream()
            .filter(
                s -> s.labels().metricName().equals("pilothouse_instance_resident_memory_bytes"))
            .findFirst()
            .orElseThrow()
            .value();
    assertThat(rss).as("this JVM's resident memory").isGreaterThan(10 << 20);
    assertThat(
            r.samples().stream()
                .filter(
                    s -> s.labels().metricName().equals("pilothouse_instance_cpu_seconds_total"))
                .findFirst()
                .orElseThrow()
                .labels()
                .toMap())
        .containsEntry("service", "test")
        .containsEntry("instance_id", "me")
        .containsEntry("version", "v7");
  }
}
