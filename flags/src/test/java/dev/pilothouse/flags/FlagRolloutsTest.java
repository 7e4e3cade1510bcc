package dev.pilothouse.flags;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pilothouse.core.analysis.Verdict;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.flags.FlagChecks;
import dev.pilothouse.core.flags.FlagRollout;
import dev.pilothouse.core.spec.Strategy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** Gradual flag changes in virtual time, with checks that answer as told. */
class FlagRolloutsTest {
  Instant now = Instant.parse("2026-11-29T12:00:00Z");
  final List<NewEvent> events = new ArrayList<>();
  final FlagsTest.MemoryRepo repo = new FlagsTest.MemoryRepo();
  final Flags flags = new Flags(repo, events::add, () -> now);
  final ArrayDeque<Verdict.Outcome> answers = new ArrayDeque<>();
  final List<Integer> askedAtPercent = new ArrayList<>();

  final FlagChecks checks =
      (r, list) -> {
        askedAtPercent.add(r.percent());
        Verdict.Outcome o = answers.isEmpty() ? Verdict.Outcome.PASS : answers.poll();
        return CompletableFuture.completedFuture(
            list.stream()
                .map(c -> new Verdict(c.name(), o, Double.NaN, 0.01, c.name() + ": " + o))
                .toList());
      };

  static final List<Strategy.Check> ERRORS =
      List.of(new Strategy.Check("errors", "promql", "errors < 0.01", Duration.ofSeconds(5)));

  FlagRollouts rollouts() {
    return new FlagRollouts(flags, repo, checks, events::add, () -> now);
  }

  void run(FlagRollouts r, Duration d) {
    for (long t = 0; t < d.toSeconds(); t++) {
      r.tick();
      now = now.plusSeconds(1);
    }
  }

  /** Share of 10,000 users now on the new checkout. */
  int onPercent() {
    int on = 0;
    for (int i = 0; i < 10_000; i++) {
      Object v = flags.evaluate("new-checkout", Map.of("targetingKey", "u" + i)).value();
      on += Boolean.TRUE.equals(v) ? 1 : 0;
    }
    return Math.round(on / 100f);
  }

  @Test
  void stepsUpOnSchedule_keepingEachUserOnTheirVariant_thenMakesItTheDefault() {
    flags.put(FlagsTest.checkout(true, List.of()), "cli");
    FlagRollouts r = rollouts();
    r.start("new-checkout", "on", List.of(1, 10, 50, 100), Duration.ofMinutes(1), ERRORS, "cli");
    assertThat(onPercent()).isEqualTo(1);
    List<String> early = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      if (Boolean.TRUE.equals(
          flags.evaluate("new-checkout", Map.of("targetingKey", "u" + i)).value())) {
        early.add("u" + i);
      }
    }
    run(r, Duration.ofSeconds(60));
    assertThat(r.status("new-checkout").orElseThrow().percent()).isEqualTo(1);
    run(r, Duration.ofSeconds(2)); // the step is due: the checks are asked afresh, then it moves
    assertThat(r.status("new-checkout").orElseThrow().percent()).isEqualTo(10);
    assertThat(onPercent()).isEqualTo(10);
    assertThat(early)
        .as("the first 1 %% stay on the new variant as the share grows")
        .allSatisfy(
            u ->
                assertThat(flags.evaluate("new-checkout", Map.of("targetingKey", u)).value())
                    .isEqualTo(true));
    run(r, Duration.ofSeconds(125));
    FlagRollout done = r.status("new-checkout").orElseThrow();
    assertThat(done.phase()).isEqualTo(FlagRollout.Phase.COMPLETED);
    assertThat(flags.get("new-checkout").orElseThrow().defaultVariant()).isEqualTo("on");
    assertThat(flags.get("new-checkout").orElseThrow().rules()).isEmpty();
    assertThat(askedAtPercent).contains(1, 10, 50);
    assertThat(events)
        .extracting(NewEvent::type)
        .containsSubsequence(
            "FlagRolloutStarted", "FlagRolloutStep", "FlagRolloutStep", "FlagRolloutCompleted");
    assertThat(flags.history("new-checkout", 10))
        .extracting(c -> c.source())
        .contains("rollout by cli");
  }

  @Test
  void failedCheck_putsEveryoneBackOnTheOldVariant_withinSeconds() {
    flags.put(FlagsTest.checkout(true, List.of(FlagsTest.staff())), "cli");
    FlagRollouts r = rollouts();
    r.start("new-checkout", "on", List.of(5, 25, 100), Duration.ofMinutes(10), ERRORS, "cli");
    run(r, Duration.ofSeconds(12));
    answers.add(Verdict.Outcome.FAIL);
    run(r, Duration.ofSeconds(7));
    FlagRollout back = r.status("new-checkout").orElseThrow();
    assertThat(back.phase()).isEqualTo(FlagRollout.Phase.ROLLED_BACK);
    assertThat(back.reason()).isEqualTo("check failed at 5%: errors: FAIL");
    assertThat(onPercent()).isZero();
    assertThat(flags.get("new-checkout").orElseThrow().rules())
        .as("the user's own rules stay")
        .containsExactly(FlagsTest.staff());
    assertThat(events).extracting(NewEvent::type).contains("FlagRolloutRolledBack");
  }

  @Test
  void inconclusiveChecks_holdTheStep_visibly() {
    flags.put(FlagsTest.checkout(true, List.of()), "cli");
    FlagRollouts r = rollouts();
    r.start("new-checkout", "on", List.of(10, 100), Duration.ofSeconds(20), ERRORS, "cli");
    for (int i = 0; i < 20; i++) {
      answers.add(Verdict.Outcome.INCONCLUSIVE);
    }
    run(r, Duration.ofSeconds(40));
    FlagRollout held = r.status("new-checkout").orElseThrow();
    assertThat(held.phase()).isEqualTo(FlagRollout.Phase.PROGRESSING);
    assertThat(held.reason()).isEqualTo("holding at 10%: errors: INCONCLUSIVE");
    answers.clear();
    run(r, Duration.ofSeconds(10));
    assertThat(r.status("new-checkout").orElseThrow().phase())
        .isEqualTo(FlagRollout.Phase.COMPLETED);
  }

  @Test
  void restartedDaemon_resumesFromTheStoredStep() {
    flags.put(FlagsTest.checkout(true, List.of()), "cli");
    rollouts()
        .start("new-checkout", "on", List.of(1, 50, 100), Duration.ofMinutes(1), List.of(), "api");
    Flags reloaded = new Flags(repo, events::add, () -> now);
    FlagRollouts again = new FlagRollouts(reloaded, repo, checks, events::add, () -> now);
    now = now.plusSeconds(61);
    again.tick();
    assertThat(again.status("new-checkout").orElseThrow().percent()).isEqualTo(50);
  }

  @Test
  void abort_andHandChanges_stopTheRollout() {
    flags.put(FlagsTest.checkout(true, List.of()), "cli");
    FlagRollouts r = rollouts();
    r.start("new-checkout", "on", List.of(20, 100), Duration.ofMinutes(1), List.of(), "cli");
    FlagRollout aborted = r.abort("new-checkout", "cli");
    assertThat(aborted.phase()).isEqualTo(FlagRollout.Phase.ABORTED);
    assertThat(onPercent()).isZero();
    r.start("new-checkout", "on", List.of(20, 100), Duration.ofMinutes(1), List.of(), "cli");
    flags.put(FlagsTest.checkout(false, List.of()), "cli"); // a kill switch by hand
    r.tick();
    assertThat(r.status("new-checkout").orElseThrow().reason())
        .isEqualTo("the flag was changed by hand (its gradual-rollout rule is gone)");
  }

  @Test
  void badPlans_areRefused_namingTheField() {
    flags.put(FlagsTest.checkout(true, List.of()), "cli");
    FlagRollouts r = rollouts();
    assertThatThrownBy(
            () ->
                r.start("new-checkout", "maybe", List.of(50, 10), Duration.ZERO, List.of(), "cli"))
        .isInstanceOf(Flags.InvalidFlagException.class)
        .hasMessageContaining("steps[1]: 10 does not rise above 50")
        .hasMessageContaining("steps: the last step must be 100")
        .hasMessageContaining("every: must be from 1s to 7d")
        .hasMessageContaining("to: the flag has no variant 'maybe'; it has on, off");
    flags.put(FlagsTest.checkout(true, List.of(FlagsTest.split(10))), "cli");
    assertThatThrownBy(
            () ->
                r.start(
                    "new-checkout",
                    "on",
                    List.of(50, 100),
                    Duration.ofMinutes(1),
                    List.of(),
                    "cli"))
        .isInstanceOf(Flags.InvalidFlagException.class)
        .hasMessageContaining(
            "rules: rule 'rollout' applies to everyone, so the rollout's rule after it would never"
                + " be reached");
    flags.put(FlagsTest.checkout(true, List.of()), "cli");
    assertThatThrownBy(
            () -> r.start("nope", "on", List.of(100), Duration.ofMinutes(1), List.of(), "cli"))
        .isInstanceOf(FlagRollouts.RefusedException.class)
        .hasMessage("no flag named 'nope'; create it first");
    r.start("new-checkout", "on", List.of(10, 100), Duration.ofMinutes(1), List.of(), "cli");
    assertThatThrownBy(
            () ->
                r.start(
                    "new-checkout",
                    "on",
                    List.of(10, 100),
                    Duration.ofMinutes(1),
                    List.of(),
                    "cli"))
        .isInstanceOf(FlagRollouts.RefusedException.class)
        .hasMessageContaining("already rolling out to 'on' (10%)");
  }
}
