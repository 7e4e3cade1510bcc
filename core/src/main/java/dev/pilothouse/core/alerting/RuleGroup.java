package dev.pilothouse.core.alerting;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;

/**
 * A group of rules evaluated in order at one interval, as in a Prometheus rule file.
 *
 * @param file the rule file it was read from (groups are named per file)
 * @param interval how often the group is evaluated
 * @param limit at most this many alerts or series per rule (0: no limit); more fails the rule
 */
public record RuleGroup(String name, String file, Duration interval, int limit, List<Rule> rules) {
  public RuleGroup {
    requireNonNull(name, "name");
    requireNonNull(file, "file");
    requireNonNull(interval, "interval");
    rules = List.copyOf(rules);
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("interval must be positive, but was " + interval);
    }
  }

  /** The group's identity across reloads: its file and its name. */
  public String key() {
    return file + ";" + name;
  }
}
