package dev.pilothouse.flags;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import dev.pilothouse.core.event.EventSink;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.flags.Flag;
import dev.pilothouse.core.flags.FlagChange;
import dev.pilothouse.core.flags.FlagRepository;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The flags: kept in the store, served from memory (an evaluation never touches the disk), every
 * change validated, recorded in the flag history and written to the event log.
 *
 * <p>Flags declared in the spec are created when first applied, and set again whenever their
 * definition in the spec changes; a change made with the CLI or the API stays until then.
 */
public final class Flags {
  /** A change that cannot be made; problems name the field and what is wrong. */
  public static final class InvalidFlagException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient List<String> problems;

    InvalidFlagException(String key, List<String> problems) {
      super("flag '" + key + "' is invalid: " + String.join("; ", problems));
      this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
      return problems;
    }
  }

  /** How many flags the daemon keeps; a bound on memory and on every bulk evaluation. */
  public static final int MAX_FLAGS = 10_000;

  private final FlagRepository repo;
  private final EventSink events;
  private final InstantSource clock;
  private final Map<String, Flag> byKey = new ConcurrentHashMap<>();

  public Flags(FlagRepository repo, EventSink events, InstantSource clock) {
    this.repo = repo;
    this.events = events;
    this.clock = clock;
    for (Flag f : repo.flags()) {
      byKey.put(f.key(), f);
    }
  }

  /** Every flag, by key. */
  public List<Flag> list() {
    return byKey.values().stream().sorted(java.util.Comparator.comparing(Flag::key)).toList();
  }

  public Optional<Flag> get(String key) {
    return Optional.ofNullable(byKey.get(key));
  }

  /** Evaluates a flag for a context; FLAG_NOT_FOUND when there is none. */
  public Evaluator.Result evaluate(String key, Map<String, Object> context) {
    Flag f = byKey.get(key);
    if (f == null) {
      return Evaluator.Result.error(key, "FLAG_NOT_FOUND", "no flag named '" + key + "'");
    }
    return Evaluator.evaluate(f, context);
  }

  /** What is wrong with a flag, as "field: problem" lines (regular expressions included). */
  public static List<String> problems(Flag f) {
    return f.problems(Flags::regexProblem);
  }

  /** What is wrong with an RE2 expression, or null. */
  public static String regexProblem(String expression) {
    try {
      Pattern.compile(expression);
      return null;
    } catch (PatternSyntaxException e) {
      return e.getDescription();
    }
  }

  /**
   * Creates or replaces a flag (source: "cli", "api"); refuses an invalid one, changing nothing.
   */
  public synchronized FlagChange put(Flag flag, String source) {
    return save(flag, source, null);
  }

  private FlagChange save(Flag flag, String source, String specHash) {
    List<String> problems = problems(flag);
    if (!byKey.containsKey(flag.key()) && byKey.size() >= MAX_FLAGS) {
      problems = new ArrayList<>(problems);
      problems.add("key: the daemon keeps at most " + MAX_FLAGS + " flags; delete unused ones");
    }
    if (!problems.isEmpty()) {
      throw new InvalidFlagException(flag.key(), problems);
    }
    FlagChange c = repo.saveFlag(flag, source, specHash);
    byKey.put(flag.key(), flag);
    Map<String, String> fields = new LinkedHashMap<>();
    fields.put("flag", flag.key());
    fields.put("source", source);
    fields.put("enabled", Boolean.toString(flag.enabled()));
    String what = c.before() == null ? "created" : summary(c.before(), flag);
    events.emit(
        new NewEvent(
            clock.instant(),
            "FlagChanged",
            "",
            "",
            "flag " + flag.key() + " " + what + " (by " + source + ")",
            fields));
    return c;
  }

  /** Deletes a flag; empty when there was none. */
  public synchronized Optional<FlagChange> delete(String key, String source) {
    Optional<FlagChange> c = repo.deleteFlag(key, source);
    byKey.remove(key);
    c.ifPresent(
        x ->
            events.emit(
                new NewEvent(
                    clock.instant(),
                    "FlagDeleted",
                    "",
                    "",
                    "flag " + key + " deleted (by " + source + ")",
                    Map.of("flag", key, "source", source))));
    return c;
  }

  /** Changes, newest first: of one flag, or of all when key is null. */
  public List<FlagChange> history(String key, int limit) {
    return repo.flagHistory(key, limit);
  }

  /** The spec's flags as last synced: a tick with the same ones does nothing. */
  private List<Flag> synced;

  /**
   * Applies the spec's flags: creates those that do not exist, sets those whose definition in the
   * spec changed since a spec last set them (revision names the change's source). Invalid ones were
   * refused when the spec was validated. Cheap when nothing changed (called on every tick).
   */
  public synchronized void sync(List<Flag> declared, java.util.function.LongSupplier revision) {
    if (declared.equals(synced)) {
      return;
    }
    for (Flag f : declared) {
      String hash = hash(f);
      boolean exists = byKey.containsKey(f.key());
      if (exists && repo.specHash(f.key()).map(hash::equals).orElse(false)) {
        continue;
      }
      if (exists && f.equals(byKey.get(f.key()))) {
        continue;
      }
      save(f, "spec r" + revision.getAsLong(), hash);
    }
    synced = List.copyOf(declared);
  }

  static String hash(Flag f) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256")
                  .digest(f.toString().getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  /** What changed, in a few words: "enabled true -> false", "default off -> on", "rules". */
  static String summary(Flag a, Flag b) {
    List<String> parts = new ArrayList<>();
    if (a.enabled() != b.enabled()) {
      parts.add(b.enabled() ? "enabled" : "disabled (kill switch)");
    }
    if (!a.defaultVariant().equals(b.defaultVariant())) {
      parts.add("default " + a.defaultVariant() + " -> " + b.defaultVariant());
    }
    if (!a.rules().equals(b.rules())) {
      parts.add("rules changed");
    }
    if (!a.variants().equals(b.variants()) || a.type() != b.type()) {
      parts.add("variants changed");
    }
    if (!a.offVariant().equals(b.offVariant()) || !a.description().equals(b.description())) {
      parts.add("details changed");
    }
    return parts.isEmpty() ? "set unchanged" : String.join(", ", parts);
  }
}
