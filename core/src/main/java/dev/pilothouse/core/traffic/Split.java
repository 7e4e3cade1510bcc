package dev.pilothouse.core.traffic;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * How a service's traffic is divided between its stable instances and a canary: a weight, plus
 * header or cookie rules that always pick the canary (A/B tests, smoke tests, sticky sessions), and
 * optionally a copy of stable traffic mirrored to the canary.
 *
 * @param stableTemplate launch template of the stable instances
 * @param canaryTemplate launch template of the canary instances
 * @param canaryWeight percent of unmatched requests for the canary, 0–100
 * @param mirrorPercent percent of the bodyless requests the stable instances get whose copy also
 *     goes to the canary (its answers are measured, then discarded); 0 for none
 * @param sticky a client keeps the side it was first sent to (by a cookie the proxy sets)
 * @param baselineService the service whose fresh stable instances take as much traffic as the
 *     canary (at most the rest), or empty for none
 */
public record Split(
    String stableTemplate,
    String canaryTemplate,
    int canaryWeight,
    List<Rule> rules,
    int mirrorPercent,
    boolean sticky,
    String baselineService) {

  /** A split without a baseline. */
  public Split(
      String stableTemplate,
      String canaryTemplate,
      int canaryWeight,
      List<Rule> rules,
      int mirrorPercent,
      boolean sticky) {
    this(stableTemplate, canaryTemplate, canaryWeight, rules, mirrorPercent, sticky, "");
  }

  /** The baseline's share: as much as the canary's, at most what is left. */
  public int baselineWeight() {
    return baselineService.isEmpty() ? 0 : Math.min(canaryWeight, 100 - canaryWeight);
  }

  /**
   * A rule sending requests that carry a header or cookie whose value matches (exactly, or "*" for
   * any; by prefix; by a whole-value RE2 expression) to the canary.
   */
  public record Rule(Kind kind, String name, String value, Op op) {
    /** Where a rule looks. */
    public enum Kind {
      HEADER,
      COOKIE
    }

    /** How a rule compares. */
    public enum Op {
      EXACT,
      PREFIX,
      REGEX
    }

    /** An exact rule. */
    public Rule(Kind kind, String name, String value) {
      this(kind, name, value, Op.EXACT);
    }

    public Rule {
      requireNonNull(kind, "kind");
      requireNonNull(name, "name");
      requireNonNull(value, "value");
      requireNonNull(op, "op");
    }
  }

  /** A split without sticky sessions; mirror copies every bodyless request. */
  public Split(
      String stableTemplate,
      String canaryTemplate,
      int canaryWeight,
      List<Rule> rules,
      boolean mirror) {
    this(stableTemplate, canaryTemplate, canaryWeight, rules, mirror ? 100 : 0, false);
  }

  /** A split that mirrors every bodyless request, or none. */
  public Split(
      String stableTemplate,
      String canaryTemplate,
      int canaryWeight,
      List<Rule> rules,
      boolean mirror,
      boolean sticky) {
    this(stableTemplate, canaryTemplate, canaryWeight, rules, mirror ? 100 : 0, sticky);
  }

  public Split {
    baselineService = baselineService == null ? "" : baselineService;
    requireNonNull(stableTemplate, "stableTemplate");
    requireNonNull(canaryTemplate, "canaryTemplate");
    rules = List.copyOf(rules);
    if (canaryWeight < 0 || canaryWeight > 100) {
      throw new IllegalArgumentException("canaryWeight must be in 0..100, but was " + canaryWeight);
    }
    if (mirrorPercent < 0 || mirrorPercent > 100) {
      throw new IllegalArgumentException(
          "mirrorPercent must be in 0..100, but was " + mirrorPercent);
    }
  }
}
