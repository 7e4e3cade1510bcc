package dev.pilothouse.core.spec;

import java.lang.reflect.RecordComponent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;

/**
 * Spec values as a user wrote them, for diffs and history: field names of the YAML (not of the Java
 * records), durations such as {@code 1m30s}, steps such as {@code {weight: 10}}, records as YAML
 * flow maps — never Java's {@code toString}.
 */
public final class SpecTerms {
  private SpecTerms() {}

  /** The spec's name of a record component, where the two differ. */
  static String field(Class<?> owner, String component) {
    if (owner == Strategy.Analysis.class && component.equals("maxLatencyIncreaseMs")) {
      return "maxLatencyIncrease";
    }
    if (owner == ServiceSpec.class && component.equals("secretEnv")) {
      return "env"; // {secret: NAME} entries are written under env
    }
    return component;
  }

  /** A component's value in the spec's terms (the latency tolerance is a duration there). */
  static Object value(Class<?> owner, String component, Object v) {
    if (owner == Strategy.Analysis.class
        && component.equals("maxLatencyIncreaseMs")
        && v instanceof Double ms) {
      return Duration.ofNanos(Math.round(ms * 1e6));
    }
    return v;
  }

  /** Records the spec writes as one value ({@code weight: 10}, {@code 25%}), not as fields. */
  static boolean isValue(Object o) {
    return o instanceof Strategy.Step
        || o instanceof Strategy.Amount
        || o instanceof Autoscale.Target
        || o instanceof Autoscale.Policy
        || o instanceof Autoscale.Tolerance
        || o instanceof Autoscale.Schedule
        || o instanceof Autoscale.Predictive
        || o instanceof Remediation.Condition
        || o instanceof Remediation.Action;
  }

  /** A value as YAML would show it (flow style), or (none). */
  static String render(Object o) {
    return switch (o) {
      case null -> "(none)";
      case Duration d -> duration(d);
      case Strategy.Step s -> step(s);
      case Strategy.Amount a -> a.value() + (a.percent() ? "%" : "");
      case Strategy.Gate.Type t -> t.wire();
      case Autoscale.Target t -> target(t);
      case Autoscale.Policy p ->
          "{"
              + p.kind().wire()
              + ": "
              + render(p.value())
              + ", period: "
              + duration(p.period())
              + "}";
      case Autoscale.Tolerance t ->
          t.up() == t.down()
              ? percent(t.up())
              : "{up: " + percent(t.up()) + ", down: " + percent(t.down()) + "}";
      case Autoscale.Behavior.Select sel -> sel.wire();
      case Remediation.Condition.Unready u -> "{unready: " + duration(u.after()) + "}";
      case Remediation.Condition.CrashLoop c -> "{crashLoop: true}";
      case Remediation.Condition.Alert a -> "{alert: " + a.alertname() + "}";
      case Remediation.Action.ScaleOut so -> "{scaleOut: " + so.by() + "}";
      case Remediation.Action.Command c ->
          "{command: " + render(c.argv()) + ", timeout: " + duration(c.timeout()) + "}";
      case Remediation.Action a -> a.name();
      case Autoscale.Schedule sc ->
          "{cron: '"
              + sc.cron()
              + "'"
              + (sc.min() > 0 ? ", min: " + sc.min() : "")
              + (sc.max() > 0 ? ", max: " + sc.max() : "")
              + (sc.duration() != null ? ", duration: " + duration(sc.duration()) : "")
              + "}";
      case Autoscale.Predictive pr ->
          "{mode: "
              + (pr.apply() ? "on" : "forecast-only")
              + ", lead: "
              + duration(pr.lead())
              + "}";
      case Enum<?> e -> camel(e.name());
      case Double d when d == Math.rint(d) && !d.isInfinite() -> Long.toString(d.longValue());
      case String str -> str.isEmpty() ? "\"\"" : str;
      case List<?> l -> {
        StringJoiner j = new StringJoiner(", ", "[", "]");
        l.forEach(x -> j.add(render(x)));
        yield j.toString();
      }
      case Map<?, ?> m -> {
        StringJoiner j = new StringJoiner(", ", "{", "}");
        m.forEach((k, v) -> j.add(k + ": " + render(v)));
        yield j.toString();
      }
      default -> o.getClass().isRecord() ? record(o) : o.toString();
    };
  }

  /** A fraction as the spec writes it: 0.1 as 10%. */
  static String percent(double fraction) {
    return render(Math.round(fraction * 1e6) / 1e4) + "%";
  }

  /**
   * An autoscaling target as the spec writes it: {@code {cpu: 70%}}, {@code {latencyP99: 250ms}}.
   */
  private static String target(Autoscale.Target t) {
    return switch (t) {
      case Autoscale.Target.Cpu c -> "{cpu: " + render(c.value()) + "%}";
      case Autoscale.Target.Memory m -> "{memory: " + render(m.value()) + "%}";
      case Autoscale.Target.LatencyP99 l ->
          "{latencyP99: " + duration(Duration.ofNanos(Math.round(l.value() * 1e6))) + "}";
      case Autoscale.Target.Promql q ->
          "{promql: {query: '" + q.query() + "', perInstance: " + render(q.value()) + "}}";
      default -> "{" + t.name() + ": " + render(t.value()) + "}";
    };
  }

  private static String step(Strategy.Step s) {
    return switch (s.kind()) {
      case WEIGHT -> "{weight: " + s.weight() + "}";
      case PAUSE -> "{pause: " + (s.duration().isZero() ? "manual" : duration(s.duration())) + "}";
      case ANALYSIS ->
          s.template() == null
              ? "{analysis: " + duration(s.duration()) + "}"
              : "{analysis: {template: "
                  + s.template().template()
                  + (s.template().args().isEmpty() ? "" : ", args: " + render(s.template().args()))
                  + "}}";
    };
  }

  private static String record(Object r) {
    List<String> parts = new ArrayList<>();
    if (r instanceof Strategy s) {
      parts.add("type: " + s.kind().wire());
    }
    for (RecordComponent c : r.getClass().getRecordComponents()) {
      Object v;
      try {
        v = c.getAccessor().invoke(r);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("reading " + c.getName(), e);
      }
      if (v == null
          || (v instanceof List<?> l && l.isEmpty())
          || (v instanceof Map<?, ?> m && m.isEmpty())) {
        continue;
      }
      parts.add(
          field(r.getClass(), c.getName()) + ": " + render(value(r.getClass(), c.getName(), v)));
    }
    return "{" + String.join(", ", parts) + "}";
  }

  /** 90 s as 1m30s, 1.5 s as 1500ms, 12.5 ms as 12.5ms, as the spec's durations are written. */
  public static String duration(Duration d) {
    if (d.isZero()) {
      return "0s";
    }
    if (d.toNanos() % 1_000_000 != 0) { // fractions of a millisecond, as in 12.5ms
      return java.math.BigDecimal.valueOf(d.toNanos(), 6).stripTrailingZeros().toPlainString()
          + "ms";
    }
    long ms = d.toMillis();
    if (ms % 1000 != 0) {
      return ms + "ms";
    }
    long s = ms / 1000;
    StringBuilder b = new StringBuilder();
    long[] units = {86_400, 3_600, 60, 1};
    String[] names = {"d", "h", "m", "s"};
    for (int i = 0; i < units.length; i++) {
      if (s >= units[i]) {
        b.append(s / units[i]).append(names[i]);
        s %= units[i];
      }
    }
    return b.toString();
  }

  private static String camel(String enumName) {
    String[] words = enumName.toLowerCase(Locale.ROOT).split("_");
    StringBuilder b = new StringBuilder(words[0]);
    for (int i = 1; i < words.length; i++) {
      if (!words[i].isEmpty()) {
        b.append(Character.toUpperCase(words[i].charAt(0))).append(words[i].substring(1));
      }
    }
    return b.toString();
  }
}
