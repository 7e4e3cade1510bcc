package dev.pilothouse.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplicaAndLeaseTest {
  @TempDir Path tmp;

  @Test
  void a_replica_is_incremental_opens_with_the_same_password_and_restores() throws Exception {
    Path src = tmp.resolve("src");
    Files.createDirectories(src);
    byte[] data = new byte[500_000];
    new Random(2).nextBytes(data);
    Files.write(src.resolve("a"), data);
    Backend primary = new LocalBackend(tmp.resolve("primary"));
    Backend replica = new LocalBackend(tmp.resolve("replica"));
    try (Repository r = TestRepos.init(primary)) {
      Snapshot s = TestRepos.backup(r, src, null);
      Copier.Report first = Copier.copy(primary, replica);
      assertThat(first.snapshots()).isEqualTo(1);
      assertThat(Copier.copy(primary, replica).files()).isZero();
      Files.writeString(src.resolve("b"), "more");
      TestRepos.backup(r, src, s);
      Copier.Report second = Copier.copy(primary, replica);
      assertThat(second.snapshots()).isEqualTo(1);
      assertThat(second.bytes()).isLessThan(first.bytes());
    }
    try (Repository r = TestRepos.open(replica)) {
      assertThat(r.snapshots()).hasSize(2);
      assertThat(Checker.check(r, 1, new Random(1)).errors()).isEmpty();
      Path out = tmp.resolve("out");
      Restorer.restore(r, r.snapshot("latest", null), out, false, new Restorer.Counters());
      assertThat(Files.readAllBytes(out.resolve(src.toString().substring(1)).resolve("a")))
          .isEqualTo(data);
    }
    Backend other = new LocalBackend(tmp.resolve("other"));
    TestRepos.init(other).close();
    assertThatThrownBy(() -> Copier.copy(primary, other))
        .hasMessageContaining("holds another repository");
  }

  @Test
  void an_exclusive_lease_names_its_holder_and_a_dead_holders_lease_is_void() throws Exception {
    Backend b = new LocalBackend(tmp.resolve("repo"));
    try (Repository r = TestRepos.init(b)) {
      try (Lease prune = Lease.take(r, true, "prune")) {
        assertThatThrownBy(() -> Lease.take(r, false, "backup of shop"))
            .hasMessageContaining("in use by prune")
            .hasMessageContaining("pid " + ProcessHandle.current().pid());
      }
      try (Lease a = Lease.take(r, false, "backup of a");
          Lease c = Lease.take(r, false, "backup of c")) {
        assertThat(b.list(Backend.Kind.LOCK)).hasSize(2);
      }
      // a lease left by a process that died (kill -9) on this host: void at once
      Lease.Info dead =
          new Lease.Info(
              true,
              "prune",
              Hosts.name(),
              Integer.MAX_VALUE - 7,
              Instant.now(),
              Instant.now().plusSeconds(600));
      b.put(Backend.Kind.LOCK, "dead", Repository.JSON.writeValueAsBytes(dead));
      // an expired lease from another host: void too
      Lease.Info old =
          new Lease.Info(
              true,
              "prune",
              "elsewhere",
              1,
              Instant.now().minusSeconds(900),
              Instant.now().minusSeconds(60));
      b.put(Backend.Kind.LOCK, "old", Repository.JSON.writeValueAsBytes(old));
      try (Lease l = Lease.take(r, false, "backup of shop")) {
        assertThat(b.list(Backend.Kind.LOCK)).hasSize(1);
      }
      // a live lease from another host blocks
      Lease.Info live =
          new Lease.Info(
              true, "prune", "elsewhere", 1, Instant.now(), Instant.now().plusSeconds(90));
      b.put(Backend.Kind.LOCK, "live", Repository.JSON.writeValueAsBytes(live));
      assertThatThrownBy(() -> Lease.take(r, false, "backup")).hasMessageContaining("on elsewhere");
    }
  }

  @Test
  void retention_keeps_last_daily_weekly_monthly_as_restic_does() {
    Instant t0 = Instant.parse("2026-03-31T12:00:00Z");
    List<Snapshot> snaps = new java.util.ArrayList<>();
    for (int i = 0; i < 60; i++) {
      Instant t = t0.minusSeconds(i * 18 * 3600L); // every 18 hours for 45 days: Feb 14 – Mar 31
      snaps.add(new Snapshot("s" + i, t, "shop", "h", List.of("/d"), "t", null, null, null, null));
    }
    Retention.Decision d = Retention.apply(snaps, new Retention.Keep(3, 7, 4, 2), ZoneOffset.UTC);
    // 3 newest; 7 days (newest of each, the first overlaps 'last'); 4 weeks; 2 months
    assertThat(d.keep().keySet()).contains(snaps.get(0), snaps.get(1), snaps.get(2));
    long daily = d.keep().values().stream().filter(v -> v.contains("daily")).count();
    long weekly = d.keep().values().stream().filter(v -> v.contains("weekly")).count();
    long monthly = d.keep().values().stream().filter(v -> v.contains("monthly")).count();
    assertThat(daily).isEqualTo(7);
    assertThat(weekly).isEqualTo(4);
    assertThat(monthly).isEqualTo(2);
    assertThat(d.keep().size() + d.forget().size()).isEqualTo(60);
    Snapshot newestOfFebruary =
        snaps.stream()
            .filter(x -> x.time().isBefore(Instant.parse("2026-03-01T00:00:00Z")))
            .findFirst()
            .orElseThrow();
    assertThat(d.keep().get(newestOfFebruary)).containsExactly("monthly");
    assertThat(d.forget()).contains(snaps.get(59));
    assertThat(Retention.apply(snaps, new Retention.Keep(0, 0, 0, 0), ZoneOffset.UTC).forget())
        .isEmpty();
  }
}
