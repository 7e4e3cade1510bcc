package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.pilothouse.client.DaemonInfo;
import dev.pilothouse.client.PilotClient;
import dev.pilothouse.client.Wire;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several daemons on one PostgreSQL and one state directory, real processes throughout: a follower
 * forwards reads and writes to the leader; a leader cut off from PostgreSQL (a relay that stops
 * passing packets) steps down before its lease can end and a follower takes over; a leader killed
 * with kill -9 is followed within ten seconds. Through both, the instances and the load balancer
 * are adopted, never started again: the same pids, no instance started twice.
 */
@QuotedFigures
class FailoverTest {
  @TempDir Path tmp;

  @Test
  void aLeaderCutOffSteps_down_aKilledOneIsFollowedWithinTenSeconds_andNothingRunsTwice()
      throws Exception {
    try (RealPostgres pg = RealPostgres.start("admin-pw");
        CutRelay relay = CutRelay.start(pg.port)) {
      String direct = pg.stateDatabase();
      String relayed = "jdbc:postgresql://127.0.0.1:" + relay.port() + "/pilothouse";
      Path pw = tmp.resolve("store-password");
      Files.writeString(pw, "state-pw\n");
      try (Harness a = new Harness(tmp);
          Harness b = new Harness(tmp)) { // one state directory
        a.cliEnv.put("PILOTHOUSE_STORE_URL", relayed);
        a.cliEnv.put("PILOTHOUSE_STORE_PASSWORD_FILE", pw.toString());
        b.cliEnv.put("PILOTHOUSE_STORE_URL", direct);
        b.cliEnv.put("PILOTHOUSE_STORE_PASSWORD_FILE", pw.toString());
        a.up(a.writeSpec("shop.yaml", Harness.routedShop("v1", 2, "")));
        a.awaitReady("shop", 2, Duration.ofSeconds(30));
        long leaderA = a.daemonPid();
        assertThat(a.status().leadership().leader().term()).isEqualTo(1);

        assertThat(b.ok("up", "--standby", "--api-port", "0").out())
            .contains("standby daemon started at", "follower; leader: http://127.0.0.1:");
        PilotClient follower = follower(b, leaderA);

        // The follower forwards reads and writes to the leader, and says who leads.
        Wire.Status viaFollower = follower.status();
        assertThat(viaFollower.pid()).isEqualTo(leaderA);
        Wire.Leadership who = follower.leader();
        assertThat(who.role()).isEqualTo("follower");
        assertThat(who.leader().id()).isEqualTo(viaFollower.leadership().self());
        follower.scale("shop", 3);
        a.awaitReady("shop", 3, Duration.ofSeconds(30));
        List<Long> pids = pids(a);
        long proxy = a.proxyPid().orElseThrow();
        long started =
            RealPostgres.count(
                direct, "SELECT count(*) FROM events WHERE type = 'InstanceStarted'");
        assertThat(started).isEqualTo(3);

        // 1. The leader loses PostgreSQL: it stops acting before its lease can end; the follower
        // takes over and adopts what runs.
        relay.cut();
        long cutAt = System.nanoTime();
        await()
            .atMost(Duration.ofSeconds(30))
            .ignoreExceptions()
            .until(() -> follower.leader().role().equals("leader"));
        long cutMs = (System.nanoTime() - cutAt) / 1_000_000;
        await() // daemon.json is the new leader's, once it has started
            .atMost(Duration.ofSeconds(30))
            .until(() -> PilotClient.info(a.stateDir).map(i -> i.pid() != leaderA).orElse(false));
        a.awaitReady("shop", 3, Duration.ofSeconds(30));
        Instant steppedDown = logged(a.stateDir.resolve("daemon.log"), "stepping down from term 1");
        Instant tookOver = logged(a.stateDir.resolve("daemon-standby.log"), "leading (term 2)");
        assertThat(steppedDown).as("the cut-off leader stopped first").isBefore(tookOver);
        long leaderB = a.status().pid();
        assertThat(leaderB).isNotEqualTo(leaderA);
        assertThat(a.status().leadership().leader().term()).isEqualTo(2);
        adoptedOnly(a, direct, pids, proxy, started);
        System.out.printf("cut from PostgreSQL: the follower led %d ms after the cut%n", cutMs);
        // The old leader acts no more: it follows again, and says it cannot reach the store.
        Wire.Leadership old = follower(a, leaderB).leader();
        assertThat(old.role()).isEqualTo("follower");
        assertThat(old.storeError()).contains("jdbc:postgresql://127.0.0.1:" + relay.port());
        Harness.signal(leaderA, "KILL"); // it could not reach PostgreSQL again anyway

        // 2. The leader is killed: a follower leads within ten seconds, the same instances run.
        a.cliEnv.put("PILOTHOUSE_STORE_URL", direct);
        a.ok("up", "--standby", "--api-port", "0");
        PilotClient next = follower(a, leaderB);
        long t0 = System.nanoTime();
        Harness.signal(leaderB, "KILL");
        await()
            .atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofMillis(100))
            .ignoreExceptions()
            .until(
                () -> {
                  Wire.Status s = next.status();
                  return s.pid() != leaderB
                      && s.leadership().role().equals("leader")
                      && s.services().get(0).readyReplicas() == 3;
                });
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf("kill -9 of the leader: a follower led and served in %d ms%n", ms);
        assertThat(ms).as("a follower leads within ten seconds").isLessThan(10_000);
        assertThat(next.status().leadership().leader().term()).isEqualTo(3);
        adoptedOnly(a, direct, pids, proxy, started);

        // 3. A canary in flight when the leader is killed: the next leader finishes it, applying
        // no step twice and sending no notification twice. (The webhook arrives with the same
        // revision as the canary, after its RolloutStarted: the 50% step's is the first it gets.)
        List<String> hooks = new CopyOnWriteArrayList<>();
        HttpServer receiver =
            HttpServer.create(
                new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 16);
        receiver.createContext(
            "/hook",
            ex -> {
              hooks.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
              ex.sendResponseHeaders(204, -1);
              ex.close();
            });
        receiver.start();
        try {
          long leaderC = next.status().pid();
          b.ok("up", "--standby", "--api-port", "0");
          PilotClient last = follower(b, leaderC);
          String before = "SELECT count(*) FROM events WHERE type = ";
          long rolloutsStarted = RealPostgres.count(direct, before + "'RolloutStarted'");
          long instancesStarted = RealPostgres.count(direct, before + "'InstanceStarted'");
          a.ok(
              "apply",
              "-f",
              a.writeSpec(
                      "v2.yaml",
                      "notifications: {webhooks: ['http://127.0.0.1:"
                          + receiver.getAddress().getPort()
                          + "/hook']}\n"
                          + Harness.routedShop("v2", 3, "")
                          + "    strategy:\n"
                          + "      type: canary\n"
                          + "      steps: [{weight: 50}, {pause: 15s}]\n")
                  .toString());
          String halfway =
              "SELECT count(*) FROM events WHERE type = 'RolloutStep' AND fields LIKE"
                  + " '%\"weight\":\"50\"%'";
          await()
              .atMost(Duration.ofSeconds(30))
              .until(
                  () ->
                      RealPostgres.count(direct, halfway) == 1
                          && hooks.stream().anyMatch(h -> h.contains("\"type\":\"RolloutStep\"")));
          assertThat(RealPostgres.count(direct, before + "'RolloutPromoted'"))
              .as("killed mid-canary (the pause runs 15 s)")
              .isZero();
          Harness.signal(leaderC, "KILL");
          await()
              .atMost(Duration.ofSeconds(60))
              .pollInterval(Duration.ofMillis(200))
              .ignoreExceptions()
              .until(() -> last.rollout("shop").phase().equals("Promoted"));
          await()
              .atMost(Duration.ofSeconds(10))
              .until(
                  () -> hooks.stream().anyMatch(h -> h.contains("\"type\":\"RolloutPromoted\"")));
          Thread.sleep(2000); // a notification sent twice would arrive by now
          assertThat(last.status().leadership().leader().term()).isEqualTo(4);
          assertThat(RealPostgres.count(direct, halfway)).as("the 50% step applied once").isOne();
          assertThat(RealPostgres.count(direct, before + "'RolloutStarted'"))
              .isEqualTo(rolloutsStarted + 1);
          assertThat(RealPostgres.count(direct, before + "'RolloutPromoted'")).isOne();
          assertThat(hooks.stream().filter(h -> h.contains("\"type\":\"RolloutStep\"")))
              .as("notified once")
              .hasSize(1);
          assertThat(hooks.stream().filter(h -> h.contains("\"type\":\"RolloutPromoted\"")))
              .hasSize(1);
          a.awaitReady("shop", 3, Duration.ofSeconds(30));
          assertThat(a.service("shop").instances())
              .allSatisfy(i -> assertThat(i.version()).isEqualTo("v2"));
          assertThat(a.ownedProcesses()).hasSize(3);
          long v2Started =
              RealPostgres.count(direct, before + "'InstanceStarted'") - instancesStarted;
          System.out.printf("canary across a failover: %d v2 instances started%n", v2Started);
          assertThat(v2Started).as("each v2 instance started once").isEqualTo(3);
          assertThat(a.ok("events", "verify").out()).contains("events, chain intact");
        } finally {
          receiver.stop(0);
        }
      }
    }
  }

  /** The same instances and load balancer run, and no instance was started again. */
  private static void adoptedOnly(
      Harness h, String store, List<Long> pids, long proxy, long started) throws Exception {
    assertThat(pids(h)).containsExactlyInAnyOrderElementsOf(pids);
    assertThat(h.ownedProcesses()).hasSize(3);
    assertThat(h.proxyPid()).hasValue(proxy);
    assertThat(
            RealPostgres.count(store, "SELECT count(*) FROM events WHERE type = 'InstanceStarted'"))
        .as("no instance started twice")
        .isEqualTo(started);
  }

  private static List<Long> pids(Harness h) {
    return h.service("shop").instances().stream().map(i -> i.pid()).toList();
  }

  /** The client of the one follower published in h's state directory that is not pid. */
  private static PilotClient follower(Harness h, long notPid) throws Exception {
    Path dir = DaemonInfo.followersDir(h.stateDir);
    DaemonInfo info;
    try (Stream<Path> files = Files.list(dir)) {
      info =
          files
              .filter(f -> f.toString().endsWith(".json"))
              .map(
                  f -> {
                    try {
                      return PilotClient.JSON.readValue(f.toFile(), DaemonInfo.class);
                    } catch (java.io.IOException e) {
                      throw new AssertionError(e);
                    }
                  })
              .filter(i -> i.pid() != notPid && Harness.alive(i.pid()))
              .findFirst()
              .orElseThrow();
    }
    return PilotClient.of(info.api(), DaemonInfo.readToken(h.stateDir));
  }

  /** When the log line containing text was written (the daemon logs ISO instants first). */
  private static Instant logged(Path log, String text) throws Exception {
    return await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                Files.readAllLines(log).stream()
                    .filter(l -> l.contains(text))
                    .map(l -> Instant.parse(l.substring(0, l.indexOf(' '))))
                    .findFirst(),
            java.util.Optional::isPresent)
        .orElseThrow();
  }
}
