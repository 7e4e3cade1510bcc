package dev.pilothouse.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Retry budget, ejection growth and cap, and the access log. */
class ResilienceTest {
  @TempDir Path dir;
  final List<AutoCloseable> open = new ArrayList<>();
  final HttpClient http = HttpClient.newHttpClient();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : open) {
      c.close();
    }
  }

  TestBackend backend(String id, int status) throws Exception {
    TestBackend b = new TestBackend(id);
    b.status = status;
    open.add(b);
    return b;
  }

  static RoutePolicy outlier(int failures, Duration base, int maxPercent) {
    return RoutePolicy.defaults()
        .withBalancing(RoutePolicy.Balancing.ROUND_ROBIN)
        .withOutlier(new RoutePolicy.Outlier(failures, base, maxPercent));
  }

  int get(DataPlane dp) throws Exception {
    return http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + dp.port() + "/")).build(),
            HttpResponse.BodyHandlers.ofString())
        .statusCode();
  }

  @Test
  void retryBudget_isAShareOfActiveRequests_withAFloor() {
    ClusterState c = new ClusterState();
    c.active.set(100);
    c.retries.set(19);
    assertThat(c.retryAllowed(0.2, 3)).isTrue();
    c.retries.set(20);
    assertThat(c.retryAllowed(0.2, 3)).isFalse();
    c.active.set(1);
    c.retries.set(2);
    assertThat(c.retryAllowed(0.2, 3)).as("at least 3").isTrue();
    c.retries.set(3);
    assertThat(c.retryAllowed(0.2, 3)).isFalse();
  }

  @Test
  void repeatedEjections_lastLonger_inVirtualTime() throws Exception {
    TestBackend good = backend("good", 200);
    TestBackend bad = backend("bad", 500);
    ManualTicker time = new ManualTicker();
    try (DataPlane dp = DataPlane.start(ProxyOptions.plain("127.0.0.1", 0), time)) {
      Backend badB = bad.backend("v1");
      dp.update(
          RouteTable.of(
              List.of(
                  Route.simple(
                      "r",
                      "/",
                      List.of(good.backend("v1"), badB),
                      outlier(2, Duration.ofSeconds(30), 50)))));
      BackendState s = ((NettyDataPlane) dp).state(badB);
      while (s.ejections.get() == 0) {
        get(dp);
      }
      assertThat(s.ejectedUntilNanos - time.nanoTime()).isEqualTo(Duration.ofSeconds(30).toNanos());
      int before = bad.requests.get();
      for (int i = 0; i < 10; i++) {
        assertThat(get(dp)).isEqualTo(200); // ejected: only the good one answers
      }
      assertThat(bad.requests.get()).isEqualTo(before);

      time.advance(Duration.ofSeconds(30));
      assertThat(s.ejected(time.nanoTime())).isFalse();
      while (s.ejections.get() == 1) {
        get(dp);
      }
      assertThat(s.ejectedUntilNanos - time.nanoTime())
          .as("the second ejection lasts twice the base")
          .isEqualTo(Duration.ofSeconds(60).toNanos());
    }
  }

  @Test
  void requestDeadline_answers504_whenVirtualTimePassesIt() throws Exception {
    TestBackend slow = backend("slow", 200);
    slow.hang = true;
    ManualTicker time = new ManualTicker();
    try (DataPlane dp = DataPlane.start(ProxyOptions.plain("127.0.0.1", 0), time)) {
      dp.update(
          RouteTable.of(
              List.of(
                  Route.simple(
                      "r",
                      "/",
                      List.of(slow.backend("v1")),
                      RoutePolicy.defaults()
                          .withRequestTimeout(Duration.ofSeconds(30))
                          .withRetriesAndMaxRequests(0, 1000)))));
      var answer =
          java.util.concurrent.CompletableFuture.supplyAsync(
              () -> {
                try {
                  return get(dp);
                } catch (Exception e) {
                  return -1;
                }
              });
      await().atMost(Duration.ofSeconds(5)).until(() -> slow.requests.get() == 1);
      Thread.sleep(200); // several sweeps: the deadline has not passed in virtual time
      assertThat(answer).isNotDone();

      time.advance(Duration.ofSeconds(31));

      assertThat(answer.get(5, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(504);
    } finally {
      slow.hang = false;
    }
  }

  @Test
  void maxEjectedPercent_capsEjections() throws Exception {
    List<Backend> group = new ArrayList<>();
    group.add(backend("ok1", 200).backend("v1"));
    group.add(backend("ok2", 200).backend("v1"));
    group.add(backend("bad1", 500).backend("v1"));
    group.add(backend("bad2", 500).backend("v1"));
    try (DataPlane dp = DataPlane.start(ProxyOptions.plain("127.0.0.1", 0))) {
      dp.update(
          RouteTable.of(
              List.of(Route.simple("r", "/", group, outlier(1, Duration.ofSeconds(30), 25)))));
      for (int i = 0; i < 40; i++) {
        get(dp);
      }
      long now = System.nanoTime();
      long ejected =
          group.stream().filter(b -> ((NettyDataPlane) dp).state(b).ejected(now)).count();
      assertThat(ejected).isEqualTo(1);
    }
  }

  @Test
  void accessLog_writesOneJsonLinePerRequest() throws Exception {
    TestBackend b = backend("b1", 200);
    Path log = dir.resolve("access.log");
    try (DataPlane dp =
        DataPlane.start(
            new ProxyOptions("127.0.0.1", 0, 1, null, null, Duration.ofSeconds(60), log, 1.0))) {
      dp.update(
          RouteTable.of(
              List.of(
                  Route.simple("shop", "/", List.of(b.backend("v3")), RoutePolicy.defaults()))));
      for (int i = 0; i < 20; i++) {
        get(dp);
      }
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> Files.exists(log) && Files.readAllLines(log).size() == 20);
      String line = Files.readAllLines(log).get(0);
      assertThat(line)
          .startsWith("{\"time\":\"")
          .contains("\"method\":\"GET\"")
          .contains("\"status\":200")
          .contains("\"route\":\"shop\"")
          .contains("\"instance\":\"b1\"")
          .contains("\"version\":\"v3\"")
          .contains("\"traceparent\":\"00-");
    }
  }

  @Test
  void accessLogSampling_logsAboutThatShare() throws Exception {
    TestBackend b = backend("b1", 200);
    Path log = dir.resolve("sampled.log");
    try (DataPlane dp =
        DataPlane.start(
            new ProxyOptions("127.0.0.1", 0, 1, null, null, Duration.ofSeconds(60), log, 0.25))) {
      dp.update(
          RouteTable.of(
              List.of(
                  Route.simple("shop", "/", List.of(b.backend("v3")), RoutePolicy.defaults()))));
      for (int i = 0; i < 400; i++) {
        get(dp);
      }
    }
    long lines = Files.readAllLines(log).size();
    assertThat(lines).isBetween(50L, 150L); // Binomial(400, 0.25): mean 100, sd 8.7
  }
}
