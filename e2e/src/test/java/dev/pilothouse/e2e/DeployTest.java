package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pilothouse.client.Wire;
import dev.pilothouse.client.load.LoadResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Blue-green deploys, smoke tests, pre-flight checks, the backup before a deploy and DORA metrics,
 * with real daemon, CLI and demo processes.
 */
@HeavyLoad
@QuotedFigures
class DeployTest {
  @TempDir Path tmp;

  static String blueGreen(String version, String extraEnv, String window) {
    return blueGreen(
        version, extraEnv, window, "{path: /, status: 200, body: 'hello from " + version + "'}");
  }

  static String blueGreen(String version, String extraEnv, String window, String smoke) {
    return Harness.routedShop(version, 2, extraEnv)
        + "    strategy:\n"
        + "      type: blueGreen\n"
        + "      rollbackWindow: "
        + window
        + "\n"
        + "      smoke:\n"
        + "        - "
        + smoke
        + "\n";
  }

  CompletableFuture<LoadResult> load(Harness h, Duration d) {
    return Harness.load(h.status().proxy().port(), 100, d);
  }

  static Wire.Rollout awaitDone(Harness h, Duration max) {
    await()
        .atMost(max)
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> List.of("Promoted", "RolledBack").contains(h.client().rollout("shop").phase()));
    return h.client().rollout("shop");
  }

  static Set<Long> pids(Harness h) {
    return h.service("shop").instances().stream()
        .map(Wire.Instance::pid)
        .collect(Collectors.toSet());
  }

  @Test
  void blueGreen_smokeTestsThePreview_switchesAtOnce_andAdoptsTheNewSetWithoutFailures()
      throws Exception {
    try (Harness h = new Harness(tmp)) {
      h.up(h.writeSpec("v1.yaml", blueGreen("v1", "", "4s")));
      h.awaitReady("shop", 2, Duration.ofSeconds(30));
      CompletableFuture<LoadResult> run = load(h, Duration.ofSeconds(15));
      Thread.sleep(1000);
      h.ok("apply", "-f", h.writeSpec("v2.yaml", blueGreen("v2", "", "4s")).toString());
      await()
          .atMost(Duration.ofSeconds(40))
          .pollInterval(Duration.ofMillis(100))
          .until(() -> h.client().rollout("shop").phase().equals("Validating"));
      Set<Long> green =
          h.service("shop").instances().stream()
              .filter(i -> i.version().equals("v2"))
              .map(Wire.Instance::pid)
              .collect(Collectors.toSet());
      assertThat(green).as("a full new set").hasSize(2);
      assertThat(h.service("shop").instances()).as("the old set stays warm").hasSize(4);
      Wire.Rollout r = awaitDone(h, Duration.ofSeconds(30));
      assertThat(r.phase()).isEqualTo("Promoted");
      assertThat(r.strategy()).isEqualTo("blueGreen");
      LoadResult load = run.get();
      System.out.println("blue-green: " + load);
      assertThat(load.errors()).isZero();
      assertThat(load.status()).containsOnlyKeys("200");
      await().atMost(Duration.ofSeconds(20)).until(() -> h.service("shop").instances().size() == 2);
      assertThat(pids(h)).as("the green instances were kept, not restarted").isEqualTo(green);
      List<Wire.Event> events = h.client().events(-1, 500);
      assertThat(events)
          .extracting(Wire.Event::type)
          .contains("RolloutSmokePassed", "CanaryAdopted", "RolloutPromoted");
    }
  }

  @Test
  void blueGreen_withErrorsAfterTheSwitch_switchesBackWithinTheRollbackWindow() throws Exception {
    try (Harness h = new Harness(tmp)) {
      h.up(h.writeSpec("v1.yaml", blueGreen("v1", "", "20s")));
      h.awaitReady("shop", 2, Duration.ofSeconds(30));
      CompletableFuture<LoadResult> run = load(h, Duration.ofSeconds(20));
      Thread.sleep(1000);
      h.ok(
          "apply",
          "-f",
          h.writeSpec(
                  "v2.yaml",
                  // The smoke test avoids '/', where 30% of the answers are errors.
                  blueGreen("v2", ", DEMO_ERROR_RATE: '0.3'", "20s", "{path: /healthz}"))
              .toString());
      Wire.Rollout r = awaitDone(h, Duration.ofSeconds(40));
      assertThat(r.phase()).isEqualTo("RolledBack");
      assertThat(r.reason()).startsWith("post-deploy validation: error rate higher");
      LoadResult load = run.get();
      List<Wire.Event> events = h.client().events(-1, 500);
      long ms =
          Duration.between(
                  RolloutTest.at(events, "RolloutStep"),
                  RolloutTest.at(events, "RolloutRolledBack"))
              .toMillis();
      System.out.println(
          "blue-green rolled back: back on the old set " + ms + " ms after the switch; " + load);
      assertThat(ms).isLessThanOrEqualTo(10_000);
      assertThat(load.errors()).isZero();
      assertThat(load.serverErrors()).isPositive().isLessThan(load.requests() * 15 / 100);
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () ->
                  h.service("shop").instances().size() == 2
                      && h.service("shop").instances().stream()
                          .allMatch(i -> i.version().equals("v1") && i.ready()));
    }
  }

  @Test
  void failingSmokeTest_rollsBack_beforeAnyUserRequestReachesTheNewVersion() throws Exception {
    try (Harness h = new Harness(tmp)) {
      h.up(h.writeSpec("v1.yaml", RolloutTest.spec("v1", "", "5s")));
      h.awaitReady("shop", 2, Duration.ofSeconds(30));
      CompletableFuture<LoadResult> run = load(h, Duration.ofSeconds(10));
      Thread.sleep(1000);
      String v2 =
          RolloutTest.spec("v2", ", DEMO_ERROR_RATE: '1'", "5s")
              + "      smoke:\n        - {path: /, status: 200}\n";
      h.ok("apply", "-f", h.writeSpec("v2.yaml", v2).toString());
      Wire.Rollout r = awaitDone(h, Duration.ofSeconds(40));
      assertThat(r.phase()).isEqualTo("RolledBack");
      assertThat(r.reason()).isEqualTo("smoke test failed: GET / answered 500, expected 200");
      LoadResult load = run.get();
      assertThat(load.errors()).isZero();
      assertThat(load.status()).as("no user saw the broken version").containsOnlyKeys("200");
    }
  }

  static String rolling(String version, String deploy) {
    return "services:\n  shop:\n    "
        + Harness.demoCommand()
        + "    version: "
        + version
        + "\n"
        + "    replicas: 2\n"
        + "    env: {DEMO_VERSION: "
        + version
        + "}\n"
        + "    readiness: {http: /readyz, interval: 1s}\n"
        + "    strategy: {type: rolling, maxSurge: 1, maxUnavailable: 0}\n"
        + "    deploy:\n"
        + deploy;
  }

  @Test
  void preflightChecks_andTheBackup_guardEveryDeploy_andDoraCountsThem() throws Exception {
    Path data = tmp.resolve("data");
    Files.createDirectories(data.resolve("sub"));
    Files.writeString(data.resolve("sub/orders.db"), "order 1\norder 2\n");
    String backup =
        "      dataPaths: [data]\n"
            + "      preDeploy: 'echo dump-of-$PILOTHOUSE_VERSION > $PILOTHOUSE_BACKUP_DIR/db.dump'\n";
    String frozen =
        "      freeze: [{days: [mon, tue, wed, thu, fri, sat, sun], reason: test freeze}]\n";
    ObjectMapper json = new ObjectMapper();
    try (Harness h = new Harness(tmp)) {
      h.up(h.writeSpec("v1.yaml", rolling("v1", backup)));
      h.awaitReady("shop", 2, Duration.ofSeconds(30));
      long revision = h.status().revision();

      Harness.Result refused =
          h.cli("apply", "-f", h.writeSpec("v2.yaml", rolling("v2", backup + frozen)).toString());
      assertThat(refused.exit()).isEqualTo(1);
      assertThat(refused.err())
          .contains("pre-flight checks failed for shop: freeze: deploys are frozen:")
          .contains("(test freeze)")
          .contains("--ignore-freeze");
      assertThat(h.status().revision()).as("nothing applied").isEqualTo(revision);

      h.ok(
          "apply",
          "-f",
          h.writeSpec("v2.yaml", rolling("v2", backup + frozen)).toString(),
          "--ignore-freeze",
          "--commit",
          "abc123",
          "--commit-time",
          "2026-01-01T00:00:00Z");
      Wire.Rollout r = awaitDone(h, Duration.ofSeconds(60));
      assertThat(r.phase()).isEqualTo("Promoted");
      assertThat(r.strategy()).isEqualTo("rolling");
      Path backups = h.stateDir.resolve("backups/shop");
      Path dir;
      try (Stream<Path> s = Files.list(backups)) {
        dir = s.findFirst().orElseThrow();
      }
      assertThat(dir.resolve("data/0-data/sub/orders.db")).hasContent("order 1\norder 2");
      assertThat(dir.resolve("db.dump")).hasContent("dump-of-v1");
      JsonNode manifest = json.readTree(dir.resolve("backup.json").toFile());
      assertThat(manifest.get("ok").asBoolean()).isTrue();
      assertThat(manifest.get("from_version").asText()).isEqualTo("v1");
      assertThat(manifest.get("pre_deploy_exit_code").asInt()).isZero();
      assertThat(Files.getPosixFilePermissions(dir.resolve("release.json")))
          .as("the release keeps env, which may hold secrets")
          .containsExactlyInAnyOrder(
              java.nio.file.attribute.PosixFilePermission.OWNER_READ,
              java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);

      long before = h.status().revision();
      Harness.Result hookFails =
          h.cli(
              "apply",
              "-f",
              h.writeSpec("v3.yaml", rolling("v3", "      preDeploy: 'exit 3'\n")).toString());
      assertThat(hookFails.exit()).isEqualTo(1);
      assertThat(hookFails.err()).contains("the preDeploy hook exited with code 3");
      Harness.Result badArtifact =
          h.cli(
              "apply",
              "-f",
              h.writeSpec(
                      "v3b.yaml",
                      rolling(
                          "v3",
                          "      artifact: data/sub/orders.db\n      sha256: "
                              + "0".repeat(64)
                              + "\n"))
                  .toString());
      assertThat(badArtifact.exit()).isEqualTo(1);
      assertThat(badArtifact.err()).contains("has sha256").contains("but the spec expects 0000");
      assertThat(h.status().revision()).as("nothing applied").isEqualTo(before);
      assertThat(h.service("shop").instances()).allMatch(i -> i.version().equals("v2"));

      JsonNode dora = json.readTree(h.ok("dora", "--since", "30d", "-o", "json").out());
      assertThat(dora.get("deployments").asInt()).isEqualTo(1);
      assertThat(dora.get("successful").asInt()).isEqualTo(1);
      assertThat(dora.get("change_failure_rate").asDouble()).isZero();
      assertThat(dora.get("lead_time_seconds").get("samples").asInt()).isEqualTo(1);
      assertThat(dora.get("lead_time_seconds").get("median").asDouble())
          .as("from the commit on 2026-01-01")
          .isGreaterThan(86_400);
      assertThat(h.ok("dora").out()).contains("DEPLOYS").contains("shop");
    }
  }
}
