package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pilothouse.client.load.LoadResult;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped chaos examples run against real instances under constant load, with the recovery each
 * expects, every fault gone afterwards — also after the daemon is killed in the middle of a run —
 * and the L4 toxics measured through the load balancer.
 */
@HeavyLoad
class ChaosTest {
  @TempDir Path tmp;
  private static final ObjectMapper JSON = new ObjectMapper();

  /** An example experiment with the load balancer's port (and shorter timings) put in. */
  private static String example(String name, int port, Map<String, String> replace)
      throws Exception {
    String text = Files.readString(Path.of("..", "examples", "chaos", name));
    text = text.replace("127.0.0.1:8080", "127.0.0.1:" + port);
    for (Map.Entry<String, String> e : replace.entrySet()) {
      assertThat(text).contains(e.getKey());
      text = text.replace(e.getKey(), e.getValue());
    }
    return text;
  }

  /** A run in full, straight from the API (the CLI's 'chaos report -o json' prints the same). */
  private static JsonNode report(Harness h, String id) {
    return h.client().chaosRun(id);
  }

  private static String lastRun(Harness h) {
    return h.client().chaosRuns(null).path("runs").get(0).path("id").asText();
  }

  private static List<String> types(JsonNode run) {
    return StreamSupport.stream(run.path("outcome").path("events").spliterator(), false)
        .map(e -> e.path("type").asText())
        .toList();
  }

  @Test
  void killOneOfThree_underLoad_failsNoRequest_recovers_andADaemonKilledMidRunLeavesNoFault()
      throws Exception {
    try (Harness h = new Harness(tmp)) {
      h.up(h.writeSpec("shop.yaml", Harness.routedShop("v1", 3, "")));
      h.awaitReady("shop", 3, Duration.ofSeconds(30));
      int port = h.status().proxy().port();
      Path kill =
          h.writeSpec(
              "kill.yaml",
              example("kill-one-of-three.yaml", port, Map.of("duration: 10s", "duration: 5s")));
      CompletableFuture<LoadResult> load = AutoscaleTest.load(port, 50, Duration.ofSeconds(11));
      Thread.sleep(1000);
      Harness.Result r = h.cli("chaos", "run", kill.toString());
      LoadResult l = load.get();
      System.out.println(r.out() + "\n" + l);
      assertThat(r.exit()).as(r.out() + r.err()).isZero();
      assertThat(r.out()).contains("injected kill into shop-").contains("verdict: passed");
      assertThat(l.errors()).isZero();
      assertThat(l.status()).containsOnlyKeys("200");
      JsonNode run = report(h, lastRun(h));
      assertThat(run.path("outcome").path("verdict").asText()).isEqualTo("passed");
      JsonNode ready =
          StreamSupport.stream(run.path("outcome").path("probes").spliterator(), false)
              .filter(p -> p.path("name").asText().equals("three-ready"))
              .findFirst()
              .orElseThrow();
      // The replacement took its time: the ready count dropped and came back.
      assertThat(ready.path("passed").asInt()).isLessThan(ready.path("evaluations").asInt());
      assertThat(ready.path("recoverySeconds").asDouble()).isBetween(0.1, 30.0);
      assertThat(types(run)).contains("InstanceExited", "InstanceStarted", "InstanceReady");
      assertThat(run.path("outcome").path("loadBalancer").path("failedRequests").asDouble())
          .isZero();
      assertThat(
              JSON.readTree(h.ok("chaos", "report", run.path("id").asText(), "-o", "json").out()))
          .isEqualTo(run);
      String md = h.ok("chaos", "report", run.path("id").asText()).out();
      assertThat(md).contains("verdict: **passed**").contains("| three-ready | >= 3 |");
      h.awaitReady("shop", 3, Duration.ofSeconds(30));

      // Every kind of fault at once on one instance, then kill -9 of the daemon mid-run.
      String all =
          "name: everything\n"
              + "target: {service: shop, count: 1}\n"
              + "faults:\n"
              + "  - pause: {}\n"
              + "  - cpu: {cores: 1}\n"
              + "  - memory: {size: 64Mi}\n"
              + "  - fds: {count: 100}\n"
              + "  - disk: {size: 20Mi, path: data}\n"
              + "  - http: {delay: 400ms}\n"
              + "  - toxic: {latency: 400ms}\n"
              + "duration: 5m\n";
      String id =
          h.ok("chaos", "run", "--detach", h.writeSpec("all.yaml", all).toString()).out().trim();
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () ->
                  report(h, id).path("applied").size() == 7
                      && report(h, id).path("timeline").toString().contains("injected toxic"));
      JsonNode in = report(h, id);
      long paused =
          h.service("shop").instances().stream()
              .filter(i -> i.id().equals(in.path("applied").get(0).path("target").asText()))
              .findFirst()
              .orElseThrow()
              .pid();
      List<Long> stressors = new ArrayList<>();
      for (JsonNode a : in.path("applied")) {
        if (List.of("cpu", "memory", "fds").contains(a.path("kind").asText())) {
          stressors.add(a.path("pid").asLong());
          assertThat(Harness.alive(a.path("pid").asLong())).isTrue();
        }
      }
      Path fill = Path.of(in.path("applied").get(4).path("path").asText());
      assertThat(fill).startsWith(tmp.resolve("data")).hasSize(20L << 20);
      assertThat(procState(paused)).isEqualTo('T');
      // The paused instance fails its readiness probe and leaves the load balancer's table.
      String pausedId = in.path("applied").get(0).path("target").asText();
      await()
          .atMost(Duration.ofSeconds(15))
          .until(
              () ->
                  h.service("shop").instances().stream()
                      .noneMatch(i -> i.id().equals(pausedId) && i.ready()));
      long slow = timeGet(port);
      assertThat(slow).as("the route's delay is in").isGreaterThanOrEqualTo(400);

      long daemon = h.daemonPid();
      Harness.signal(daemon, "KILL");
      await().atMost(Duration.ofSeconds(10)).until(() -> !Harness.alive(daemon));
      h.up(tmp.resolve("shop.yaml"));
      JsonNode after = report(h, id);
      assertThat(after.path("state").asText()).isEqualTo("DONE");
      assertThat(after.path("outcome").path("verdict").asText()).isEqualTo("aborted");
      for (JsonNode a : after.path("applied")) {
        assertThat(a.path("rolledBack").asBoolean()).as(a.toString()).isTrue();
      }
      assertThat(procState(paused)).isNotEqualTo('T');
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> stressors.stream().noneMatch(Harness::alive));
      assertThat(fill).doesNotExist();
      await().atMost(Duration.ofSeconds(10)).until(() -> timeGet(port) < 300);
      assertThat(h.ok("chaos", "list").out()).contains(id).contains("aborted");

      // The kill switch refuses runs until it is lifted (it is kept in the store: SqliteStoreTest).
      h.ok("chaos", "disable", "--reason", "release week");
      Harness.Result refused = h.cli("chaos", "run", kill.toString());
      assertThat(refused.exit()).isNotZero();
      assertThat(refused.err()).contains("chaos is disabled since").contains("release week");
      assertThat(h.ok("chaos", "status").out()).contains("DISABLED").contains("release week");
      h.ok("chaos", "enable");
      assertThat(h.ok("chaos", "status").out()).startsWith("chaos: enabled");
    }
  }

  private static char procState(long pid) throws Exception {
    String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
    return s.charAt(s.lastIndexOf(')') + 2);
  }

  /** Milliseconds one GET through the load balancer takes (it must answer 200). */
  private static long timeGet(int port) throws Exception {
    long t0 = System.nanoTime();
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
                    .timeout(Duration.ofSeconds(10))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return (System.nanoTime() - t0) / 1_000_000;
  }

  @Test
  void aSlowInstance_isAvoidedByLeastRequest_andTheToxicsAddWhatWasAsked() throws Exception {
    try (Harness h = new Harness(tmp)) {
      // shop's instances start with libfaketime, for the clock fault at the end.
      String shop =
          Harness.routedShop("v1", 3, "")
              + "metrics: {scrapeInterval: 1s}\n"
              + "chaos: {clock: [shop]}\n";
      h.up(h.writeSpec("shop.yaml", shop));
      h.awaitReady("shop", 3, Duration.ofSeconds(30));
      int port = h.status().proxy().port();
      Path latency =
          h.writeSpec(
              "latency.yaml",
              example("latency-one-instance.yaml", port, Map.of("duration: 20s", "duration: 8s")));
      // Eight clients in a loop, each answer noted with when it was asked and who gave it.
      AtomicBoolean stop = new AtomicBoolean();
      record Answer(java.time.Instant at, String who, long ms) {}
      List<Answer> answers = new CopyOnWriteArrayList<>();
      AtomicLong failed = new AtomicLong();
      HttpClient http = HttpClient.newHttpClient();
      List<Thread> clients = new ArrayList<>();
      for (int c = 0; c < 8; c++) {
        clients.add(
            Thread.ofVirtual()
                .start(
                    () -> {
                      while (!stop.get()) {
                        java.time.Instant at = java.time.Instant.now();
                        long t0 = System.nanoTime();
                        try {
                          HttpResponse<String> r =
                              http.send(
                                  HttpRequest.newBuilder(
                                          URI.create("http://127.0.0.1:" + port + "/"))
                                      .timeout(Duration.ofSeconds(5))
                                      .build(),
                                  HttpResponse.BodyHandlers.ofString());
                          String body = r.body();
                          answers.add(
                              new Answer(
                                  at,
                                  body.substring(body.indexOf('(') + 1, body.indexOf(')')),
                                  (System.nanoTime() - t0) / 1_000_000));
                          if (r.statusCode() != 200) {
                            failed.incrementAndGet();
                          }
                        } catch (Exception e) {
                          failed.incrementAndGet();
                        }
                      }
                    }));
      }
      Thread.sleep(3000);
      Harness.Result r = h.cli("chaos", "run", latency.toString());
      stop.set(true);
      for (Thread t : clients) {
        t.join();
      }
      System.out.println(r.out());
      assertThat(r.exit()).as(r.out() + r.err()).isZero();
      assertThat(failed.get()).isZero();
      JsonNode run = report(h, lastRun(h));
      String slow = run.path("applied").get(0).path("target").asText();
      // While the toxic was in (from a second after it went in, when the load balancer's table
      // carries it, to its rollback).
      java.time.Instant from =
          java.time.Instant.parse(run.path("injectedAt").asText()).plusSeconds(1);
      java.time.Instant to =
          StreamSupport.stream(run.path("timeline").spliterator(), false)
              .filter(x -> x.path("what").asText().startsWith("rolled back toxic"))
              .map(x -> java.time.Instant.parse(x.path("at").asText()))
              .findFirst()
              .orElseThrow();
      List<Answer> during =
          answers.stream().filter(a -> a.at().isAfter(from) && a.at().isBefore(to)).toList();
      List<Long> slowMs =
          during.stream().filter(a -> a.who().equals(slow)).map(Answer::ms).toList();
      List<Long> otherMs =
          during.stream().filter(a -> !a.who().equals(slow)).map(Answer::ms).toList();
      double share = slowMs.size() / (double) during.size();
      System.out.printf(
          "slow instance %s served %.1f %% of %d requests while the toxic was in%n",
          slow, 100 * share, during.size());
      // A third each without the fault; least-request (the default) sends it markedly less.
      assertThat(share).as("least-request avoids the slow instance").isLessThan(0.15);
      assertThat(median(slowMs)).isGreaterThan(median(otherMs) + 250);

      // The added latency, measured without the load (which queues on a busy machine): every
      // instance behind a 300 ms toxic, sequential requests against the same without it.
      List<Long> before = new ArrayList<>();
      for (int i = 0; i < 15; i++) {
        before.add(timeGet(port));
      }
      String lat =
          "name: latency-all\n"
              + "target: {service: shop, percent: 100}\n"
              + "faults:\n  - toxic: {latency: 300ms}\n"
              + "duration: 60s\n";
      String latId =
          h.ok("chaos", "run", "--detach", h.writeSpec("lat.yaml", lat).toString()).out().trim();
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  report(h, latId).path("timeline").toString().split("injected toxic").length == 4);
      Thread.sleep(500); // the table with the redirects reaches the load balancer
      List<Long> with = new ArrayList<>();
      for (int i = 0; i < 15; i++) {
        with.add(timeGet(port));
      }
      h.ok("chaos", "abort", latId);
      double added = median(with) - median(before);
      System.out.printf("added latency through the load balancer: %.0f ms (300 asked)%n", added);
      assertThat(added).isBetween(270.0, 330.0);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> report(h, latId).path("state").asText().equals("DONE"));

      // Bandwidth: every instance behind a 256 KiB/s toxic, 1 MiB downloaded through the LB.
      String bw =
          "name: bandwidth\n"
              + "target: {service: shop, percent: 100}\n"
              + "faults:\n  - toxic: {bandwidth: 256Ki}\n"
              + "duration: 60s\n";
      String id =
          h.ok("chaos", "run", "--detach", h.writeSpec("bw.yaml", bw).toString()).out().trim();
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () -> report(h, id).path("timeline").toString().split("injected toxic").length == 4);
      Thread.sleep(500); // the table with the redirects reaches the load balancer
      long t0 = System.nanoTime();
      HttpResponse<byte[]> big =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/bytes?n=1048576"))
                  .timeout(Duration.ofSeconds(30))
                  .build(),
              HttpResponse.BodyHandlers.ofByteArray());
      double seconds = (System.nanoTime() - t0) / 1e9;
      h.ok("chaos", "abort", id);
      double rate = big.body().length / seconds;
      System.out.printf("bandwidth through the load balancer: %.0f B/s (262144 asked)%n", rate);
      assertThat(big.body()).hasSize(1 << 20);
      assertThat(rate).isBetween(262144 * 0.9, 262144 * 1.1);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> report(h, id).path("state").asText().equals("DONE"));
      assertThat(timeGet(port)).isLessThan(250);

      // A partition (reject): every caller through the load balancer gets 503, until it is lifted.
      String cut =
          "name: cut\ntarget: {service: shop}\nfaults:\n  - partition: {mode: reject}\n"
              + "duration: 60s\n";
      String cutId =
          h.ok("chaos", "run", "--detach", h.writeSpec("cut.yaml", cut).toString()).out().trim();
      HttpRequest home =
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
              .timeout(Duration.ofSeconds(5))
              .build();
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> http.send(home, HttpResponse.BodyHandlers.discarding()).statusCode() == 503);
      h.ok("chaos", "abort", cutId);
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> http.send(home, HttpResponse.BodyHandlers.discarding()).statusCode() == 200);

      // A partition between two services: web calls shop through the load balancer; cut off from
      // shop, web's calls get 503 (reject) or no answer (blackhole), while everyone else's pass.
      String withWeb =
          shop.replace(
              "metrics:",
              "  web:\n    "
                  + Harness.demoCommand()
                  + "    env: {DEMO_UPSTREAM: 'http://127.0.0.1:"
                  + port
                  + "/'}\n"
                  + "    readiness: {http: /readyz, interval: 1s}\n"
                  + "    route: {pathPrefix: /web, stripPrefix: true}\n"
                  + "metrics:");
      h.ok("apply", "-f", h.writeSpec("shop.yaml", withWeb).toString());
      h.awaitReady("web", 1, Duration.ofSeconds(30));
      HttpRequest call =
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/web/call"))
              .timeout(Duration.ofSeconds(10))
              .build();
      assertThat(http.send(call, HttpResponse.BodyHandlers.ofString()).body())
          .isEqualTo("upstream 200\n");
      // Steady traffic from another caller through both partitions and the clock skew.
      CompletableFuture<LoadResult> steady = Harness.load(port, 20, Duration.ofSeconds(15));
      for (String mode : List.of("reject", "blackhole")) {
        String between =
            "name: web-shop\ntarget: {service: shop}\nfaults:\n"
                + "  - partition: {mode: "
                + mode
                + ", from: [web]}\nduration: 60s\n";
        String betweenId =
            h.ok("chaos", "run", "--detach", h.writeSpec("between.yaml", between).toString())
                .out()
                .trim();
        String cutOff = mode.equals("reject") ? "upstream 503\n" : "upstream timed out\n";
        await()
            .atMost(Duration.ofSeconds(10))
            .until(
                () -> http.send(call, HttpResponse.BodyHandlers.ofString()).body().equals(cutOff));
        assertThat(http.send(home, HttpResponse.BodyHandlers.discarding()).statusCode())
            .as("a caller that is not web still gets through")
            .isEqualTo(200);
        h.ok("chaos", "abort", betweenId);
        await()
            .atMost(Duration.ofSeconds(10))
            .until(
                () ->
                    http.send(call, HttpResponse.BodyHandlers.ofString())
                        .body()
                        .equals("upstream 200\n"));
      }

      // Clock skew: one instance's wall clock an hour ahead (its answers' Date header shows it),
      // and back after the run.
      String skew =
          "name: skew\ntarget: {service: shop, count: 1}\nfaults:\n  - clock: {offset: +1h}\n"
              + "duration: 60s\n";
      String skewId =
          h.ok("chaos", "run", "--detach", h.writeSpec("skew.yaml", skew).toString()).out().trim();
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> report(h, skewId).path("applied").size() == 1);
      String skewed = report(h, skewId).path("applied").get(0).path("target").asText();
      int skewedPort =
          h.status().services().stream()
              .flatMap(x -> x.instances().stream())
              .filter(i -> i.id().equals(skewed))
              .findFirst()
              .orElseThrow()
              .port();
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> instanceClock(skewedPort) - System.currentTimeMillis() / 1000 > 3500);
      h.ok("chaos", "abort", skewId);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> Math.abs(instanceClock(skewedPort) - System.currentTimeMillis() / 1000) < 5);
      LoadResult others = steady.get();
      System.out.println("another caller through the partitions and the skew: " + others);
      assertThat(others.errors()).as("a caller that is not web is never cut off").isZero();
      assertThat(others.status()).containsOnlyKeys("200");

      // A daemon stopped gracefully mid-run leaves the load balancer (which outlives it) a table
      // without the run's faults.
      String slowRoute =
          "name: slow\ntarget: {service: shop}\nfaults:\n  - http: {delay: 700ms}\nduration: 5m\n";
      h.ok("chaos", "run", "--detach", h.writeSpec("slow.yaml", slowRoute).toString());
      await().atMost(Duration.ofSeconds(5)).until(() -> timeGet(port) >= 700);
      long daemon = h.daemonPid();
      Harness.signal(daemon, "TERM");
      await().atMost(Duration.ofSeconds(30)).until(() -> !Harness.alive(daemon));
      assertThat(timeGet(port)).isLessThan(300);
    }
  }

  /** An instance's wall clock (epoch seconds), from its answer's Date header. */
  private static long instanceClock(int port) throws Exception {
    HttpResponse<Void> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/healthz"))
                    .timeout(Duration.ofSeconds(5))
                    .build(),
                HttpResponse.BodyHandlers.discarding());
    return java.time.ZonedDateTime.parse(
            r.headers().firstValue("date").orElseThrow(),
            java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME)
        .toEpochSecond();
  }

  private static double median(List<Long> l) {
    List<Long> s = new ArrayList<>(l);
    s.sort(null);
    return s.get(s.size() / 2);
  }

  @Test
  void aCpuBurn_scalesTheServiceOut_andADiskFill_firesTheDiskAlert() throws Exception {
    Files.createDirectories(tmp.resolve("rules"));
    Files.copy(Path.of("..", "examples", "rules", "disk.yml"), tmp.resolve("rules/disk.yml"));
    String spec =
        Harness.routedShop("v1", 1, "")
            + "    resources: {cpu: 250m}\n"
            + "    autoscale:\n"
            + "      min: 1\n"
            + "      max: 3\n"
            + "      targets: [{cpu: 60%}]\n"
            + "      warmup: 1s\n"
            + "metrics: {scrapeInterval: 1s}\n"
            + "alerting:\n"
            + "  ruleFiles: [rules/*.yml]\n";
    try (Harness h = new Harness(tmp)) {
      h.up(h.writeSpec("shop.yaml", spec));
      h.awaitReady("shop", 1, Duration.ofSeconds(30));
      int port = h.status().proxy().port();
      Thread.sleep(4000); // a few samples of the disk's free space before it fills
      Path cpu =
          h.writeSpec(
              "cpu.yaml", example("cpu-burn.yaml", port, Map.of("duration: 30s", "duration: 10s")));
      Path disk =
          h.writeSpec(
              "disk.yaml",
              example(
                  "disk-fill.yaml",
                  port,
                  Map.of(
                      "target: {service: shop, count: 1}", "target: {service: shop, count: 1}",
                      "duration: 90s", "duration: 8s",
                      "interval: 5s", "interval: 1s")));
      CompletableFuture<LoadResult> load = AutoscaleTest.load(port, 20, Duration.ofSeconds(20));
      Harness.Result c = h.cli("chaos", "run", cpu.toString());
      System.out.println(c.out());
      assertThat(c.exit()).as(c.out() + c.err()).isZero();
      JsonNode cpuRun = report(h, lastRun(h));
      assertThat(types(cpuRun)).contains("Scaled");
      assertThat(cpuRun.path("outcome").path("expectations").get(0).path("met").asBoolean())
          .isTrue();
      long stressor = cpuRun.path("applied").get(0).path("pid").asLong();
      assertThat(Harness.alive(stressor)).isFalse();
      assertThat(load.get().errors()).isZero();

      Harness.Result d = h.cli("chaos", "run", disk.toString());
      System.out.println(d.out());
      assertThat(d.exit()).as(d.out() + d.err()).isZero();
      JsonNode diskRun = report(h, lastRun(h));
      assertThat(types(diskRun)).contains("AlertFiring");
      assertThat(Path.of(diskRun.path("applied").get(0).path("path").asText())).doesNotExist();
    }
  }
}
