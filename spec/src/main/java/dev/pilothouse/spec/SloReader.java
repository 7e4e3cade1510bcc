package dev.pilothouse.spec;

import dev.pilothouse.core.slo.Slo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * A service's {@code slos:} list. Objectives are percentages ({@code 99.9%} or {@code 99.9}); the
 * window is 28 or 30 days; a latency SLI's threshold must be a bucket of the load balancer's
 * histogram, since good requests are counted there.
 */
final class SloReader extends SectionReader {
  static final List<String> SLO =
      List.of("name", "sli", "objective", "window", "threshold", "alerts", "labels");

  /** SLOs per service: each costs 9 recording rules and 2 alerts. */
  static final int MAX_PER_SERVICE = 20;

  /** The load balancer's latency buckets, in seconds (its histogram's {@code le}). */
  static final double[] BUCKETS = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30
  };

  private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?");
  private static final Pattern LABEL = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");

  SloReader(SectionReader parent) {
    super(parent);
  }

  List<Slo> slos(String service, Fields f, boolean routed) {
    List<Fields> items =
        objects(f, "slos", SLO, "write '- {sli: availability, objective: 99.9%}'", MAX_PER_SERVICE);
    if (!items.isEmpty() && !routed) {
      problems.at(
          f.get("slos").orElseThrow(),
          f.join("slos"),
          "SLOs are measured by the load balancer, and this service has no route",
          "add 'route: /' (or another prefix), or remove the SLOs");
      return List.of();
    }
    List<Slo> out = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (Fields sf : items) {
      slo(service, sf, names).ifPresent(out::add);
    }
    return out;
  }

  private Optional<Slo> slo(String service, Fields f, Set<String> names) {
    int before = problems.list().size();
    Slo.Sli sli = Slo.Sli.AVAILABILITY;
    Optional<String> kind = f.string("sli");
    if (kind.isPresent()) {
      switch (kind.get()) {
        case "availability" -> sli = Slo.Sli.AVAILABILITY;
        case "latency" -> sli = Slo.Sli.LATENCY;
        default ->
            problems.at(
                f.get("sli").orElseThrow(),
                f.join("sli"),
                "unknown SLI '" + kind.get() + "'",
                "write availability (no 5xx, no proxy error) or latency (answered within"
                    + " 'threshold')");
      }
    }
    String name = f.string("name").orElse(sli.wire());
    if (!NAME.matcher(name).matches()) {
      problems.at(
          f.get("name").orElse(f.node()),
          f.join("name"),
          "invalid SLO name '" + name + "'",
          "use lowercase letters, digits, '-' and '_'");
    } else if (!names.add(name)) {
      problems.at(
          f.get("name").orElse(f.node()),
          f.join("name"),
          "a second SLO named '" + name + "' on this service",
          "give each SLO of a service its own name");
    }
    double objective = objective(f);
    Duration window = duration(f, "window", Duration.ofDays(30), false);
    if (!window.equals(Duration.ofDays(30)) && !window.equals(Duration.ofDays(28))) {
      problems.at(
          f.get("window").orElseThrow(),
          f.join("window"),
          "the window must be 28d or 30d",
          "write 30d (a month) or 28d (four whole weeks)");
    }
    Duration threshold = null;
    if (sli == Slo.Sli.LATENCY) {
      if (f.require("threshold", "give the time a good request is answered within, e.g. 250ms")
          .isPresent()) {
        threshold = duration(f, "threshold", Duration.ofMillis(250), false);
        double secs = threshold.toNanos() / 1e9;
        boolean bucket = false;
        for (double b : BUCKETS) {
          bucket |= Math.abs(b - secs) < 1e-9;
        }
        if (!bucket) {
          problems.at(
              f.get("threshold").orElseThrow(),
              f.join("threshold"),
              "the load balancer's histogram has no bucket at " + f.string("threshold").orElse(""),
              "use one of 1ms, 2.5ms, 5ms, 10ms, 25ms, 50ms, 100ms, 250ms, 500ms, 1s, 2.5s, 5s,"
                  + " 10s, 30s");
        }
      }
    } else if (f.has("threshold")) {
      problems.at(
          f.get("threshold").orElseThrow(),
          f.join("threshold"),
          "only a latency SLI has a threshold",
          "write 'sli: latency', or remove the threshold");
    }
    Map<String, String> labels = labels(f);
    boolean alerts = f.bool("alerts").orElse(true);
    if (problems.list().size() != before) {
      return Optional.empty();
    }
    return Optional.of(new Slo(service, name, sli, objective, window, threshold, alerts, labels));
  }

  /** {@code 99.9%}, or a bare number read as a percentage as Sloth does. */
  private double objective(Fields f) {
    Optional<Node> on =
        f.require("objective", "give the target share of good requests, e.g. 99.9%");
    if (on.isEmpty()) {
      return 0.99;
    }
    String text = on.get() instanceof Node.Scalar s ? s.text().trim() : "";
    String number = text.endsWith("%") ? text.substring(0, text.length() - 1).trim() : text;
    double pct;
    try {
      pct = Double.parseDouble(number);
    } catch (NumberFormatException e) {
      pct = Double.NaN;
    }
    if (!(pct > 0 && pct < 100)) {
      problems.at(
          on.get(),
          f.join("objective"),
          "must be a percentage above 0 and below 100, but is " + Fields.describe(on.get()),
          "write e.g. 99.9%");
      return 0.99;
    }
    if (!text.endsWith("%") && pct <= 1) {
      problems.at(
          on.get(),
          f.join("objective"),
          "is read as a percentage, and " + text + "% is almost surely not meant",
          "write it as a percentage, e.g. " + (pct * 100) + "%");
      return 0.99;
    }
    return new java.math.BigDecimal(number).movePointLeft(2).doubleValue();
  }

  private Map<String, String> labels(Fields f) {
    Map<String, String> out = new TreeMap<>();
    Optional<Node> on = f.get("labels");
    if (on.isEmpty()) {
      return out;
    }
    if (!(on.get() instanceof Node.MapNode m)) {
      problems.at(
          on.get(), f.join("labels"), "must be a map of label: value", "write e.g. {team: shop}");
      return out;
    }
    for (Node.Entry e : m.entries().values()) {
      String p = f.join("labels") + "." + e.key();
      if (!LABEL.matcher(e.key()).matches() || e.key().startsWith("__")) {
        problems.add(
            e.line(),
            e.column(),
            p,
            "invalid label name '" + e.key() + "'",
            "use letters, digits and '_', not starting with a digit or '__'");
      } else if (Set.of("service", "slo", "severity", "alertname").contains(e.key())) {
        problems.add(
            e.line(),
            e.column(),
            p,
            "label '" + e.key() + "' is set by Pilothouse",
            "choose another label name, e.g. team");
      } else if (e.value() instanceof Node.Scalar s) {
        out.put(e.key(), s.text());
      } else {
        problems.at(e.value(), p, "must be a single value", "quote the value");
      }
    }
    return out;
  }
}
