package dev.pilothouse.flags;

import static java.util.Objects.requireNonNull;

import dev.pilothouse.core.analysis.Verdict;
import dev.pilothouse.core.event.EventSink;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.flags.Flag;
import dev.pilothouse.core.flags.FlagChecks;
import dev.pilothouse.core.flags.FlagRepository;
import dev.pilothouse.core.flags.FlagRollout;
import dev.pilothouse.core.spec.Strategy;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;

/**
 * Gradual flag changes: moves a flag's users from one variant to another by percentage steps (a
 * {@value FlagRollout#RULE} rule that splits by the targeting key, so each user keeps their variant
 * as the share grows), asks the checks every {@link #CHECK_EVERY} and before each step, and puts
 * everyone back on the old variant when a check fails or someone aborts. Each step is a flag change
 * (history, events); the rollout itself is kept in the store and resumes after a restart.
 */
public final class FlagRollouts {
  /** How often the checks are asked while a step runs. */
  public static final Duration CHECK_EVERY = Duration.ofSeconds(5);

  /** A rollout that cannot be started or changed; the message says why and what to do. */
  public static final class RefusedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    RefusedException(String message) {
      super(message);
    }
  }

  private final Flags flags;
  private final FlagRepository repo;
  private final FlagChecks checks;
  private final EventSink events;
  private final InstantSource clock;
  private final Map<String, FlagRollout> byKey = new LinkedHashMap<>();
  private final Map<String, CompletableFuture<List<Verdict>>> asking = new LinkedHashMap<>();
  private final Map<String, Instant> askedAt = new LinkedHashMap<>();

  public FlagRollouts(
      Flags flags, FlagRepository repo, FlagChecks checks, EventSink events, InstantSource clock) {
    this.flags = requireNonNull(flags, "flags");
    this.repo = requireNonNull(repo, "repo");
    this.checks = requireNonNull(checks, "checks");
    this.events = requireNonNull(events, "events");
    this.clock = requireNonNull(clock, "clock");
    for (FlagRollout r : repo.flagRollouts()) {
      byKey.put(r.key(), r);
    }
  }

  /**
   * Starts moving flag key's users to variant to by steps, each lasting every, watched by checks.
   *
   * @throws Flags.InvalidFlagException naming the fields that are wrong
   * @throws RefusedException when the flag is missing, already on to, or already rolling out
   */
  public synchronized FlagRollout start(
      String key,
      String to,
      List<Integer> steps,
      Duration every,
      List<Strategy.Check> watch,
      String source) {
    Flag flag =
        flags
            .get(key)
            .orElseThrow(
                () -> new RefusedException("no flag named '" + key + "'; create it first"));
    FlagRollout current = byKey.get(key);
    if (current != null && !current.phase().done()) {
      throw new RefusedException(
          "flag '"
              + key
              + "' is already rolling out to '"
              + current.to()
              + "' ("
              + current.percent()
              + "%); abort it first");
    }
    List<String> problems = new ArrayList<>(FlagRollout.problems(steps, every, watch.size()));
    if (!flag.variants().containsKey(to)) {
      problems.add(
          "to: the flag has no variant '"
              + to
              + "'; it has "
              + String.join(", ", flag.variants().keySet()));
    } else if (to.equals(flag.defaultVariant())) {
      problems.add("to: '" + to + "' is already the flag's default; nothing would change");
    }
    flag.rules().stream()
        .filter(r -> r.when().isEmpty() && !r.name().equals(FlagRollout.RULE))
        .findFirst()
        .ifPresent(
            r ->
                problems.add(
                    "rules: rule '"
                        + r.name()
                        + "' applies to everyone, so the rollout's rule after it would never be"
                        + " reached; remove it first"));
    if (flag.rules().stream().anyMatch(r -> r.name().equals(FlagRollout.RULE))) {
      problems.add(
          "rules: the flag still has a '" + FlagRollout.RULE + "' rule; remove it or rename it");
    }
    if (!problems.isEmpty()) {
      throw new Flags.InvalidFlagException(key, problems);
    }
    Instant now = clock.instant();
    FlagRollout r =
        new FlagRollout(
            key,
            flag.defaultVariant(),
            to,
            steps,
            every,
            watch,
            FlagRollout.Phase.PROGRESSING,
            0,
            now,
            now,
            "at " + steps.get(0) + "%",
            source,
            List.of());
    if (steps.get(0) == 100) {
      return finish(r, flag, now);
    }
    flags.put(withShare(flag, r, steps.get(0)), "rollout by " + source);
    save(r);
    emit(r, "FlagRolloutStarted", "flag " + key + " rolling out to " + to + ": " + r.reason());
    return r;
  }

  /** Puts everyone back on the old variant now. */
  public synchronized FlagRollout abort(String key, String source) {
    FlagRollout r = byKey.get(key);
    if (r == null || r.phase().done()) {
      throw new RefusedException("no rollout of flag '" + key + "' is under way");
    }
    return rollBack(r, FlagRollout.Phase.ABORTED, "aborted by " + source, r.verdicts());
  }

  /** The newest rollout of a flag. */
  public synchronized Optional<FlagRollout> status(String key) {
    return Optional.ofNullable(byKey.get(key));
  }

  /** The newest rollout of every flag. */
  public synchronized List<FlagRollout> all() {
    return List.copyOf(byKey.values());
  }

  /** One pass: collects check answers, rolls back on a failure, and advances steps that are due. */
  public synchronized void tick() {
    Instant now = clock.instant();
    for (FlagRollout r : List.copyOf(byKey.values())) {
      if (!r.phase().done()) {
        advance(r, now);
      }
    }
  }

  private void advance(FlagRollout r, Instant now) {
    Optional<Flag> flag = flags.get(r.key());
    if (flag.isEmpty()
        || flag.get().rules().stream().noneMatch(x -> x.name().equals(FlagRollout.RULE))) {
      FlagRollout done =
          save(
              r.with(
                  FlagRollout.Phase.ABORTED,
                  flag.isEmpty()
                      ? "the flag was deleted"
                      : "the flag was changed by hand (its " + FlagRollout.RULE + " rule is gone)",
                  r.verdicts()));
      emit(done, "FlagRolloutAborted", "flag " + r.key() + " rollout stopped: " + done.reason());
      forget(r.key());
      return;
    }
    boolean due = !now.isBefore(r.stepStartedAt().plus(r.every()));
    if (r.checks().isEmpty()) {
      if (due) {
        next(r, flag.get(), now, List.of());
      }
      return;
    }
    List<Verdict> answers = answers(r, now, due);
    if (answers == null) {
      return;
    }
    Optional<Verdict> failed =
        answers.stream().filter(v -> v.outcome() == Verdict.Outcome.FAIL).findFirst();
    if (failed.isPresent()) {
      rollBack(
          r,
          FlagRollout.Phase.ROLLED_BACK,
          "check failed at " + r.percent() + "%: " + failed.get().reason(),
          answers);
      return;
    }
    if (!due) {
      save(r.with(r.phase(), r.reason(), answers));
      return;
    }
    List<Verdict> unsure =
        answers.stream().filter(v -> v.outcome() == Verdict.Outcome.INCONCLUSIVE).toList();
    if (!unsure.isEmpty()) {
      String why =
          "holding at "
              + r.percent()
              + "%: "
              + unsure.stream().map(Verdict::reason).collect(Collectors.joining("; "));
      if (!why.equals(r.reason())) {
        save(r.with(r.phase(), why, answers));
      }
      return;
    }
    next(r, flag.get(), now, answers);
  }

  /**
   * The checks' answers once in; null while they are asked. Asked every {@link #CHECK_EVERY}, and
   * at once when a step is due and the latest answers are older than its start.
   */
  private List<Verdict> answers(FlagRollout r, Instant now, boolean due) {
    CompletableFuture<List<Verdict>> f = asking.get(r.key());
    if (f == null) {
      Instant last = askedAt.get(r.key());
      if (last == null
          || !now.isBefore(last.plus(CHECK_EVERY))
          || (due && last.isBefore(r.stepStartedAt().plus(r.every())))) {
        askedAt.put(r.key(), now);
        asking.put(r.key(), checks.run(r, r.checks()));
      }
      return null;
    }
    if (!f.isDone()) {
      return null;
    }
    asking.remove(r.key());
    try {
      return f.join();
    } catch (RuntimeException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      return List.of(
          new Verdict(
              "checks",
              Verdict.Outcome.FAIL,
              Double.NaN,
              Double.NaN,
              "the checks could not run: " + cause.getMessage()));
    }
  }

  private void next(FlagRollout r, Flag flag, Instant now, List<Verdict> answers) {
    int step = r.step() + 1;
    if (step >= r.steps().size() || r.steps().get(step) == 100) {
      finish(r.with(r.phase(), r.reason(), answers), flag, now);
      return;
    }
    int share = r.steps().get(step);
    flags.put(withShare(flag, r, share), "rollout by " + r.source());
    FlagRollout n =
        save(r.with(r.phase(), r.reason(), answers).atStep(step, now, "at " + share + "%"));
    emit(n, "FlagRolloutStep", "flag " + r.key() + " rolling out to " + r.to() + ": " + n.reason());
  }

  private FlagRollout finish(FlagRollout r, Flag flag, Instant now) {
    Flag done = flag.with(r.to(), withoutRule(flag));
    flags.put(done, "rollout by " + r.source());
    FlagRollout c =
        save(
            r.atStep(r.steps().size() - 1, now, "")
                .with(FlagRollout.Phase.COMPLETED, "everyone is on " + r.to(), r.verdicts()));
    emit(c, "FlagRolloutCompleted", "flag " + r.key() + " rolled out: " + c.reason());
    forget(r.key());
    return c;
  }

  private FlagRollout rollBack(
      FlagRollout r, FlagRollout.Phase phase, String why, List<Verdict> answers) {
    flags
        .get(r.key())
        .ifPresent(
            f -> flags.put(f.with(f.defaultVariant(), withoutRule(f)), "rollout by " + r.source()));
    FlagRollout back = save(r.with(phase, why, answers));
    emit(
        back,
        phase == FlagRollout.Phase.ABORTED ? "FlagRolloutAborted" : "FlagRolloutRolledBack",
        "flag " + r.key() + " back on " + r.from() + ": " + why);
    forget(r.key());
    return back;
  }

  /** The flag with its rollout rule giving share percent of users the new variant. */
  private static Flag withShare(Flag flag, FlagRollout r, int share) {
    Map<String, Integer> split = new LinkedHashMap<>();
    split.put(r.to(), share); // first: the buckets below share, so a user keeps their variant
    split.put(r.from(), 100 - share);
    List<Flag.Rule> rules = new ArrayList<>(withoutRule(flag));
    rules.add(new Flag.Rule(FlagRollout.RULE, List.of(), null, split));
    return flag.with(flag.defaultVariant(), rules);
  }

  private static List<Flag.Rule> withoutRule(Flag flag) {
    return flag.rules().stream().filter(x -> !x.name().equals(FlagRollout.RULE)).toList();
  }

  private FlagRollout save(FlagRollout r) {
    repo.saveFlagRollout(r);
    byKey.put(r.key(), r);
    return r;
  }

  private void forget(String key) {
    asking.remove(key);
    askedAt.remove(key);
  }

  private void emit(FlagRollout r, String type, String message) {
    Map<String, String> fields = new LinkedHashMap<>();
    fields.put("flag", r.key());
    fields.put("variant", r.to());
    fields.put("percent", Integer.toString(r.percent()));
    fields.put("phase", r.phase().wire());
    events.emit(new NewEvent(clock.instant(), type, "", "", message, fields));
  }
}
