package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pilothouse.client.Wire;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The daemon keeps real instance processes alive: kill -9, hangs, crash loops, its own death. */
class SelfHealingTest {
  @TempDir Path tmp;

  static String shop(int replicas, String extra) {
    return "services:\n  shop:\n    "
        + Harness.demoCommand()
        + "    replicas: "
        + replicas
        + "\n"
        + "    readiness: {http: /readyz, interval: 1s, timeout: 1s}\n"
        + "    liveness: {http: /healthz, interval: 500ms, timeout: 500ms, failureThreshold: 3}\n"
        + "    restart: {initialBackoff: 100ms, maxBackoff: 1s, maxRestarts: 20}\n"
        + "    stop: {timeout: 2s}\n"
        + extra;
  }

  @Test
  void instanceKilledWithSigkill_isReplacedAndReadyAgain_andDownLeavesNoProcessBehind()
      throws Exception {
    try (Harness h = new Harness(tmp)) {
      h.up(h.writeSpec("shop.yaml", shop(2, "")));
      Wire.Service before = h.awaitReady("shop", 2, Duration.ofSeconds(30));
      Wire.Instance victim = before.instances().get(0);
      Instant killedAt = Instant.now();
      Harness.signal(victim.pid(), "KILL");
      await()
          .atMost(Duration.ofSeconds(20))
          .pollInterval(Duration.ofMillis(50))
          .until(
              () -> {
                Wire.Service s = h.service("shop");
                return s.readyReplicas() == 2
                    && s.instances().size() == 2
                    && s.instances().stream().noneMatch(i -> i.id().equals(victim.id()));
              });
      long ms = Duration.between(killedAt, Instant.now()).toMillis();
      System.out.println("replacement ready " + ms + " ms after kill -9");
      assertThat(Harness.alive(victim.pid())).isFalse();
      List<Wire.Event> events = h.client().events(-1, 200);
      assertThat(events)
          .anySatisfy(
              e -> {
                assertThat(e.type()).isEqualTo("InstanceExited");
                assertThat(e.instance()).isEqualTo(victim.id());
                assertThat(e.fields()).containsEntry("exit_code", "137");
              });
      // down stops every instance and the daemon, and leaves nothing behind
      Set<Long> pids = pids(h.service("shop"));
      long daemon = h.daemonPid();
      Harness.Result r = h.ok("down");
      assertThat(r.out()).contains("stopping 2 instances").contains("stopped");
      assertThat(Harness.alive(daemon)).isFalse();
      assertThat(pids).noneMatch(Harness::alive);
      assertThat(h.ownedProcesses()).isEmpty();
      assertThat(h.stateDir.resolve("daemon.json")).doesNotExist();
    }
  }

  @Test
  void hungInstance_isKilledByLivenessAndReplaced() throws Exception {
    try (Harness h = new Harness(tmp)) {
      h.up(h.writeSpec("shop.yaml", shop(1, "")));
      Wire.Instance hung = h.awaitReady("shop", 1, Duration.ofSeconds(30)).instances().get(0);
      Harness.signal(hung.pid(), "STOP");
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(100))
          .until(
              () -> {
                Wire.Service s = h.service("shop");
                return s.readyReplicas() == 1
                    && s.instances().stream().noneMatch(i -> i.id().equals(hung.id()));
              });
      await().atMost(Duration.ofSeconds(10)).until(() -> !Harness.alive(hung.pid()));
      assertThat(h.client().events(-1, 200))
          .anySatisfy(
              e -> {
                assertThat(e.type()).isEqualTo("LivenessFailed");
                assertThat(e.instance()).isEqualTo(hung.id());
              });
    }
  }

  @Test
  void crashingInstance_backsOffThenEntersCrashLoop() throws Exception {
    String spec =
        "services:\n  broken:\n    command: sh\n    args: [-c, 'echo starting; exit 3']\n"
            + "    restart: {initialBackoff: 100ms, maxBackoff: 400ms, jitter: 0, maxRestarts: 3}\n";
    try (Harness h = new Harness(tmp)) {
      Harness.Result r =
          h.cli(
              "up",
              "-f",
              h.writeSpec("broken.yaml", spec).toString(),
              "--detach",
              "--api-port",
              "0",
              "--timeout",
              "30");
      assertThat(r.exit()).as(r.out() + r.err()).isEqualTo(1);
      assertThat(r.err()).contains("service broken is crash-looping");
      assertThat(h.service("broken").state()).isEqualTo("crash-loop");
      List<Wire.Event> events = h.client().events(-1, 500);
      List<Long> delays =
          events.stream()
              .filter(e -> e.type().equals("RestartScheduled"))
              .map(e -> Long.parseLong(e.fields().get("delay_ms")))
              .toList();
      assertThat(delays).containsExactly(100L, 200L, 400L);
      assertThat(events).filteredOn(e -> e.type().equals("InstanceStarted")).hasSize(4);
      assertThat(events)
          .filteredOn(e -> e.type().equals("CrashLoop"))
          .singleElement()
          .satisfies(e -> assertThat(e.message()).contains("pilothouse restart broken"));
      Harness.Result status = h.ok("status");
      assertThat(status.out()).contains("crash-loop");
    }
  }

  @Test
  void daemonKilledWithSigkill_restartsWithExactlyTheDeclaredInstances_andDownStillStopsThem()
      throws Exception {
    try (Harness h = new Harness(tmp)) {
      Path spec = h.writeSpec("shop.yaml", shop(3, ""));
      h.up(spec);
      Set<Long> pids = pids(h.awaitReady("shop", 3, Duration.ofSeconds(30)));
      long daemon = h.daemonPid();
      // someone follows the events meanwhile: told that the daemon went away, with exit code 3
      java.util.concurrent.CompletableFuture<Harness.Result> follower =
          java.util.concurrent.CompletableFuture.supplyAsync(() -> h.cli("events", "-f"));
      await() // it has printed the events so far, so it follows now
          .atMost(Duration.ofSeconds(20))
          .pollInterval(Duration.ofMillis(100))
          .until(() -> printed(h, "InstanceReady"));
      Harness.signal(daemon, "KILL");
      await().atMost(Duration.ofSeconds(10)).until(() -> !Harness.alive(daemon));
      Harness.Result followed = follower.get(30, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(followed.exit()).as(followed.err()).isEqualTo(3);
      assertThat(followed.err()).contains("the event stream ended: the daemon stopped");
      assertThat(followed.out()).contains("InstanceReady");
      assertThat(pids).allMatch(Harness::alive); // instances outlive the daemon
      h.up(spec);
      Wire.Service after = h.awaitReady("shop", 3, Duration.ofSeconds(30));
      assertThat(pids(after)).as("re-adopted, not restarted").isEqualTo(pids);
      assertThat(h.ownedProcesses()).containsExactlyInAnyOrderElementsOf(pids);
      assertThat(h.daemonPid()).isNotEqualTo(daemon);
      // killed again: down, with no daemon to ask, still stops the instances
      long second = h.daemonPid();
      Harness.signal(second, "KILL");
      await().atMost(Duration.ofSeconds(10)).until(() -> !Harness.alive(second));
      h.ok("down");
      assertThat(pids).noneMatch(Harness::alive);
      assertThat(h.ownedProcesses()).isEmpty();
    }
  }

  @Test
  void instanceDyingWhileDaemonIsDown_isReplacedOnRestart_withoutDuplicates() throws Exception {
    try (Harness h = new Harness(tmp)) {
      Path spec = h.writeSpec("shop.yaml", shop(2, ""));
      h.up(spec);
      Wire.Service before = h.awaitReady("shop", 2, Duration.ofSeconds(30));
      long daemon = h.daemonPid();
      Harness.signal(daemon, "KILL");
      long dead = before.instances().get(0).pid();
      long survivor = before.instances().get(1).pid();
      Harness.signal(dead, "KILL");
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> !Harness.alive(daemon) && !Harness.alive(dead));
      h.up(spec);
      Wire.Service after = h.awaitReady("shop", 2, Duration.ofSeconds(30));
      assertThat(pids(after)).contains(survivor).doesNotContain(dead).hasSize(2);
      assertThat(h.ownedProcesses()).hasSize(2);
    }
  }

  static Set<Long> pids(Wire.Service s) {
    return s.instances().stream().map(Wire.Instance::pid).collect(Collectors.toSet());
  }

  /** Whether a CLI call of this harness has printed text on its output (while it still runs). */
  static boolean printed(Harness h, String text) throws java.io.IOException {
    try (var files = Files.list(h.work)) {
      for (Path f : files.filter(p -> p.getFileName().toString().startsWith("out")).toList()) {
        if (Files.readString(f).contains(text)) {
          return true;
        }
      }
    }
    return false;
  }
}
