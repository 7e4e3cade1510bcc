package dev.pilothouse.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.pilothouse.core.analysis.Verdict;
import dev.pilothouse.core.deploy.Preflight;
import dev.pilothouse.core.instance.ServiceStatus;
import dev.pilothouse.core.rollout.Rollout;
import dev.pilothouse.core.spec.DeploySpec;
import dev.pilothouse.core.spec.Resources;
import dev.pilothouse.core.spec.RestartPolicy;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.core.spec.StopPolicy;
import dev.pilothouse.core.spec.Strategy;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pre-flight checks against the real file system, and custom checks against real processes. */
class PreflightAndChecksTest {
  @TempDir Path tmp;

  static ServiceSpec svc(String version, long memory, DeploySpec d) {
    return new ServiceSpec(
            "shop",
            "./s",
            List.of(),
            Map.of(),
            "/tmp",
            version,
            2,
            null,
            null,
            RestartPolicy.defaults(),
            StopPolicy.defaults(),
            new Resources(0, memory),
            null)
        .withDeploy(d);
  }

  static DeploySpec deploy(long minDisk, String artifact, String sha, List<String> deps) {
    DeploySpec d = DeploySpec.defaults();
    return new DeploySpec(
        artifact,
        sha,
        deps,
        List.of(),
        minDisk,
        0,
        List.of(),
        "",
        d.preDeployTimeout(),
        d.keepBackups());
  }

  HostPreflight preflight(List<ServiceStatus> status, long memAvailable) {
    return new HostPreflight(
        tmp, () -> status, () -> Optional.of(8080), () -> OptionalLong.of(memAvailable));
  }

  static Map<String, Preflight.Result> byCheck(List<Preflight.Result> results) {
    Map<String, Preflight.Result> m = new java.util.HashMap<>();
    results.forEach(r -> m.put(r.check(), r));
    return m;
  }

  @Test
  void everyCheckPasses_withHeadroom_theArtifact_andReadyDependencies() throws Exception {
    Path jar = Files.writeString(tmp.resolve("app.jar"), "build 42");
    String sha = HostPreflight.sha256(jar);
    List<ServiceStatus> status =
        List.of(new ServiceStatus("db", "v1", "running", 1, 1, 0, List.of()));
    List<Preflight.Result> r =
        preflight(status, 8L << 30)
            .check(
                svc("v2", 256L << 20, deploy(1, jar.toString(), sha, List.of("db"))),
                Instant.now(),
                false);
    assertThat(r).allSatisfy(x -> assertThat(x.passed()).as(x.toString()).isTrue());
    assertThat(byCheck(r)).containsKeys("disk", "memory", "ports", "artifact", "dependency db");
  }

  @Test
  void eachFailure_namesWhatIsWrong_andHowToFixIt() throws Exception {
    Path jar = Files.writeString(tmp.resolve("app.jar"), "build 43");
    List<ServiceStatus> status =
        List.of(new ServiceStatus("db", "v1", "crash-loop", 1, 0, 0, List.of()));
    Map<String, Preflight.Result> r =
        byCheck(
            preflight(status, 100L << 20)
                .check(
                    svc(
                        "v2",
                        256L << 20,
                        deploy(Long.MAX_VALUE, jar.toString(), "ab".repeat(32), List.of("db"))),
                    Instant.now(),
                    false));
    assertThat(r.get("disk").passed()).isFalse();
    assertThat(r.get("disk").message()).contains("lower deploy.minFreeDisk");
    assertThat(r.get("memory").passed()).isFalse();
    assertThat(r.get("memory").message())
        .isEqualTo(
            "100 MiB available, less than the 256 MiB needed for 1 new instance; free memory, or"
                + " lower resources.memory or deploy.minFreeMemory");
    assertThat(r.get("artifact").passed()).isFalse();
    assertThat(r.get("artifact").message()).contains("but the spec expects " + "ab".repeat(32));
    assertThat(r.get("dependency db").passed()).isFalse();
    assertThat(r.get("dependency db").message()).contains("db has 0 ready instances");
    Files.delete(jar);
    Map<String, Preflight.Result> missing =
        byCheck(
            preflight(status, 8L << 30)
                .check(
                    svc("v2", 0, deploy(1, jar.toString(), "", List.of())), Instant.now(), false));
    assertThat(missing.get("artifact").message())
        .endsWith("is missing; build or download it before deploying");
  }

  @Test
  void freezeWindow_refuses_unlessOverridden() {
    DeploySpec base = DeploySpec.defaults();
    DeploySpec frozen =
        new DeploySpec(
            "",
            "",
            List.of(),
            List.of(
                new DeploySpec.FreezeWindow(
                    Instant.parse("2026-12-24T00:00:00Z"),
                    Instant.parse("2026-12-27T00:00:00Z"),
                    null,
                    null,
                    null,
                    "UTC",
                    "holidays")),
            1,
            0,
            List.of(),
            "",
            base.preDeployTimeout(),
            5);
    HostPreflight p = preflight(List.of(), 8L << 30);
    ServiceSpec s = svc("v2", 0, frozen);
    Instant xmas = Instant.parse("2026-12-25T10:00:00Z");
    assertThat(byCheck(p.check(s, xmas, false)).get("freeze").message())
        .isEqualTo(
            "deploys are frozen: 2026-12-24T00:00:00Z to 2026-12-27T00:00:00Z (holidays); wait,"
                + " or pass --ignore-freeze for an emergency fix");
    assertThat(byCheck(p.check(s, xmas, true)).get("freeze").passed()).isTrue();
    assertThat(
            byCheck(p.check(s, Instant.parse("2026-12-28T10:00:00Z"), false))
                .get("freeze")
                .passed())
        .isTrue();
  }

  static Rollout rollout(ServiceSpec after) {
    Instant now = Instant.parse("2026-11-26T10:00:00Z");
    return new Rollout(
        "shop",
        new Spec(List.of(svc("v1", 0, DeploySpec.defaults()))),
        new Spec(List.of(after)),
        Strategy.Canary.of(List.of()),
        Rollout.Phase.PROGRESSING,
        1,
        20,
        now,
        now,
        "",
        List.of());
  }

  @Test
  void customChecks_webhookAndCommand_giveVerdictsWithReasons() throws Exception {
    List<String> bodies = new CopyOnWriteArrayList<>();
    HttpServer receiver =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
    receiver.createContext(
        "/pass",
        ex -> {
          bodies.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
          ex.sendResponseHeaders(204, -1);
          ex.close();
        });
    receiver.createContext(
        "/judge",
        ex -> {
          byte[] b = "{\"result\": \"fail\", \"reason\": \"queue backlog 900\"}".getBytes();
          ex.sendResponseHeaders(200, b.length);
          ex.getResponseBody().write(b);
          ex.close();
        });
    receiver.start();
    String base = "http://127.0.0.1:" + receiver.getAddress().getPort();
    ServiceSpec v2 =
        new ServiceSpec(
            "shop",
            "./s",
            List.of(),
            Map.of(),
            tmp.toString(),
            "v2",
            2,
            null,
            null,
            RestartPolicy.defaults(),
            StopPolicy.defaults(),
            Resources.none(),
            null);
    dev.pilothouse.tsdb.promql.Engine engine =
        new dev.pilothouse.tsdb.promql.Engine(
            (mint, maxt, ms, budget) -> List.of(),
            dev.pilothouse.tsdb.promql.Engine.Options.defaults());
    try (RolloutChecks checks =
        new RolloutChecks(
            () -> null,
            () -> new Spec(List.of(v2)),
            q -> engine.instant(q, 1_000_000L),
            "0123456789abcdef0123456789abcdef")) {
      List<Verdict> v =
          checks
              .custom(
                  rollout(v2),
                  List.of(
                      new Strategy.Check("hook", "webhook", base + "/pass", Duration.ofSeconds(5)),
                      new Strategy.Check(
                          "judge", "webhook", base + "/judge", Duration.ofSeconds(5)),
                      new Strategy.Check(
                          "ok-cmd",
                          "command",
                          "test \"$PILOTHOUSE_VERSION\" = v2 && echo fine",
                          Duration.ofSeconds(5)),
                      new Strategy.Check(
                          "bad-cmd",
                          "command",
                          "echo replication lag 30s; exit 2",
                          Duration.ofSeconds(5)),
                      new Strategy.Check("slow", "command", "sleep 30", Duration.ofMillis(300)),
                      new Strategy.Check("true", "promql", "vector(1) > 0", Duration.ofSeconds(5)),
                      new Strategy.Check(
                          "false", "promql", "vector(0) == bool 1", Duration.ofSeconds(5)),
                      new Strategy.Check(
                          "nodata", "promql", "nonexistent_metric", Duration.ofSeconds(5)),
                      new Strategy.Check(
                          "filtered", "promql", "(vector(0.2) < 0.05)", Duration.ofSeconds(5)),
                      new Strategy.Check(
                          "nan", "promql", "vector(NaN) < 0.05", Duration.ofSeconds(5)),
                      new Strategy.Check(
                          "nodata-cmp", "promql", "nonexistent_metric > 1", Duration.ofSeconds(5))))
              .get();
      assertThat(v)
          .extracting(Verdict::outcome)
          .containsExactly(
              Verdict.Outcome.PASS,
              Verdict.Outcome.FAIL,
              Verdict.Outcome.PASS,
              Verdict.Outcome.FAIL,
              Verdict.Outcome.FAIL,
              Verdict.Outcome.PASS,
              Verdict.Outcome.FAIL,
              Verdict.Outcome.INCONCLUSIVE,
              Verdict.Outcome.FAIL,
              Verdict.Outcome.INCONCLUSIVE,
              Verdict.Outcome.INCONCLUSIVE);
      assertThat(v.get(6).reason()).isEqualTo("false: {} is 0.0");
      assertThat(v.get(8).reason())
          .as("a comparison that does not hold fails; it is not mistaken for no data")
          .isEqualTo("filtered: {} is 0.2, which is not < the threshold");
      assertThat(v.get(8).effect()).isEqualTo(0.2);
      assertThat(v.get(9).reason()).isEqualTo("nan: no data: the left-hand side is NaN");
      assertThat(v.get(10).reason()).isEqualTo("nodata-cmp: the query returned no data");
      assertThat(v.get(7).reason()).isEqualTo("nodata: the query returned no data");
      assertThat(v.get(1).reason()).isEqualTo("judge: webhook answered 200 (queue backlog 900)");
      assertThat(v.get(2).reason()).isEqualTo("ok-cmd: exit code 0 (fine)");
      assertThat(v.get(3).reason()).isEqualTo("bad-cmd: exit code 2 (replication lag 30s)");
      assertThat(v.get(4).reason()).isEqualTo("slow: timed out after 300ms");
      assertThat(bodies)
          .singleElement()
          .asString()
          .contains("\"service\":\"shop\"")
          .contains("\"version\":\"v2\"")
          .contains("\"stable_version\":\"v1\"")
          .contains("\"weight\":\"20\"");
    } finally {
      receiver.stop(0);
    }
  }
}
