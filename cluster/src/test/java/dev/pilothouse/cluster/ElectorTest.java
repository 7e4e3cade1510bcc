package dev.pilothouse.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ElectorTest {
  static final Elector.Timing FAST =
      new Elector.Timing(
          Duration.ofMillis(800),
          Duration.ofMillis(100),
          Duration.ofMillis(50),
          Duration.ofMillis(500));

  /** Records what the elector told it, and when. */
  static final class Recorder implements Elector.Role {
    final List<String> calls = new CopyOnWriteArrayList<>();
    final AtomicLong steppedDownAt = new AtomicLong();
    volatile boolean failToStart;

    @Override
    public void lead(long term) throws Exception {
      calls.add("lead " + term);
      if (failToStart) {
        throw new IllegalStateException("the state directory is locked");
      }
    }

    @Override
    public void stepDown(String why) {
      steppedDownAt.set(System.nanoTime());
      calls.add("stepDown " + why);
    }
  }

  @Test
  void aFreeLease_isTaken_andKeptByRenewing() {
    MemoryLeases leases = new MemoryLeases();
    Recorder role = new Recorder();
    try (Elector e = new Elector(leases, "a", "http://a", "site", FAST, role)) {
      e.start();
      await().atMost(Duration.ofSeconds(5)).until(e::leading);
      await().atMost(Duration.ofSeconds(5)).until(() -> role.calls.contains("lead 1"));
      // held over several lease lengths: it renews
      await().pollDelay(Duration.ofMillis(2_000)).until(() -> true);
      assertThat(e.leading()).isTrue();
      assertThat(e.term()).isEqualTo(1);
      assertThat(role.calls).containsExactly("lead 1");
      assertThat(leases.current().orElseThrow().holder()).isEqualTo("a");
    }
    assertThat(leases.releases).as("a clean stop lets the lease go").isEqualTo(1);
  }

  @Test
  void aLeaderThatCannotReachTheStore_stepsDownBeforeItsLastLeaseCanEnd() {
    MemoryLeases leases = new MemoryLeases();
    Recorder role = new Recorder();
    try (Elector e = new Elector(leases, "a", "http://a", "site", FAST, role)) {
      e.start();
      await().atMost(Duration.ofSeconds(5)).until(e::leading);
      leases.answerAfterMillis = 150; // a slow network first: renewals still land
      await().pollDelay(Duration.ofMillis(600)).until(() -> true);
      assertThat(e.leading()).isTrue();
      leases.unreachable = true;
      await().atMost(Duration.ofSeconds(5)).until(() -> role.steppedDownAt.get() != 0);
      assertThat(role.steppedDownAt.get())
          .as("stopped before the last lease granted could end")
          .isLessThan(leases.lastGrantedExpiry);
      assertThat(role.calls.get(role.calls.size() - 1))
          .startsWith(
              "stepDown the lease could not be renewed for 500 ms (the store does not answer)");
      assertThat(e.leading()).isFalse();

      // the store answers again, the lease ran out: it competes and leads again, a newer term
      leases.unreachable = false;
      await().atMost(Duration.ofSeconds(5)).until(e::leading);
      assertThat(e.term()).isEqualTo(2);
    }
  }

  @Test
  void aLeaderWhoseLeaseAnotherHolds_stepsDownAtItsNextRenewal_andFollows() {
    MemoryLeases leases = new MemoryLeases();
    Recorder role = new Recorder();
    try (Elector e = new Elector(leases, "a", "http://a", "site", FAST, role)) {
      e.start();
      await().atMost(Duration.ofSeconds(5)).until(e::leading);
      leases.seize("b", "http://b", Duration.ofMinutes(1));
      await().atMost(Duration.ofSeconds(1)).until(() -> !e.leading());
      assertThat(role.calls)
          .containsExactly("lead 1", "stepDown another daemon holds the lease now");
      await()
          .atMost(Duration.ofSeconds(1))
          .until(() -> e.leader().orElseThrow().holder().equals("b"));
      assertThat(e.leader().orElseThrow().address()).isEqualTo("http://b");
      assertThat(e.leader().orElseThrow().term()).isEqualTo(2);
    }
  }

  @Test
  void aDaemonThatCannotStartLeading_letsTheLeaseGo_forAnotherToTake() {
    MemoryLeases leases = new MemoryLeases();
    Recorder role = new Recorder();
    role.failToStart = true;
    try (Elector e = new Elector(leases, "a", "http://a", "site", FAST, role)) {
      e.start();
      await().atMost(Duration.ofSeconds(5)).until(() -> leases.releases == 1);
      assertThat(e.leading()).isFalse();
      assertThat(role.calls).containsExactly("lead 1", "stepDown starting failed");
      // released: another daemon takes it at once, without waiting for the lease to run out
      assertThat(leases.acquire("b", "http://b", "site", Duration.ofMinutes(1))).hasValue(2);
    }
  }

  @Test
  void timingsThatCouldLetTwoLead_areRefused() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                new Elector.Timing(
                    Duration.ofSeconds(4),
                    Duration.ofSeconds(1),
                    Duration.ofMillis(500),
                    Duration.ofSeconds(4)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("step down before its lease ends");
  }
}
