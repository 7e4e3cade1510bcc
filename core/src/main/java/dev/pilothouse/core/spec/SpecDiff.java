package dev.pilothouse.core.spec;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/** Field-by-field differences between two specs, as lines a user reads. */
public final class SpecDiff {
  private SpecDiff() {}

  /** A duration as the spec writes it: 90 s as 1m30s, 1.5 s as 1500ms. */
  public static String duration(java.time.Duration d) {
    return SpecTerms.duration(d);
  }

  /** Lines such as {@code ~ services.shop.replicas: 3 -> 5}, {@code + services.api}. */
  public static List<String> between(Spec before, Spec after) {
    List<String> out = new ArrayList<>();
    compare("proxy", before.proxy(), after.proxy(), out);
    if (!before.notifications().equals(after.notifications())) {
      // Receivers may carry tokens in their URLs or passwords: say that, not what, changed.
      out.add("~ notifications: (changed)");
    }
    compare("metrics", before.metrics(), after.metrics(), out);
    Map<String, dev.pilothouse.core.flags.Flag> oldFlags = new java.util.TreeMap<>();
    before.flags().forEach(f -> oldFlags.put(f.key(), f));
    Map<String, dev.pilothouse.core.flags.Flag> newFlags = new java.util.TreeMap<>();
    after.flags().forEach(f -> newFlags.put(f.key(), f));
    oldFlags.keySet().stream()
        .filter(k -> !newFlags.containsKey(k))
        .forEach(k -> out.add("- flags." + k));
    newFlags.forEach(
        (k, f) -> {
          if (!oldFlags.containsKey(k)) {
            out.add("+ flags." + k);
          } else if (!oldFlags.get(k).equals(f)) {
            out.add("~ flags." + k + ": (changed)");
          }
        });
    rules(before.alerting(), after.alerting(), out);
    compare("repositories", before.backup().repositories(), after.backup().repositories(), out);
    compare("backup", before.backup().plans(), after.backup().plans(), out);
    compare("runtime", before.runtime(), after.runtime(), out);
    for (RegionSpec old : before.regions()) {
      if (after.region(old.name()).isEmpty()) {
        out.add("- regions." + old.name());
      }
    }
    for (RegionSpec now : after.regions()) {
      var old = before.region(now.name());
      if (old.isEmpty()) {
        out.add("+ regions." + now.name());
      } else {
        compare("regions." + now.name(), old.get(), now, out);
      }
    }
    for (ServiceSpec old : before.services()) {
      if (after.service(old.name()).isEmpty()) {
        out.add("- services." + old.name());
      }
    }
    for (ServiceSpec now : after.services()) {
      var old = before.service(now.name());
      if (old.isEmpty()) {
        out.add("+ services." + now.name());
      } else {
        compare("services." + now.name(), old.get(), now, out);
      }
    }
    return out;
  }

  /** Rule groups added, removed or changed, and in a changed group which rules. */
  private static void rules(AlertingSpec before, AlertingSpec after, List<String> out) {
    compare("alerting.ruleFiles", before.ruleFiles(), after.ruleFiles(), out);
    compare(
        "alerting.alertmanagerConfig",
        before.alertmanagerConfig(),
        after.alertmanagerConfig(),
        out);
    compare("alerting.alertmanagers", before.alertmanagers(), after.alertmanagers(), out);
    compare("alerting.builtinRules", before.builtinRules(), after.builtinRules(), out);
    compare("alerting.anomalies", before.anomalies(), after.anomalies(), out);
    if (!java.util.Objects.equals(before.oncall(), after.oncall())) {
      // Contacts are personal: say that, not what, changed.
      out.add("~ oncall: (changed)");
    }
    Map<String, dev.pilothouse.core.slo.Slo> oldSlos = new java.util.TreeMap<>();
    before.slos().forEach(o -> oldSlos.put(o.service() + ".slos." + o.name(), o));
    Map<String, dev.pilothouse.core.slo.Slo> newSlos = new java.util.TreeMap<>();
    after.slos().forEach(o -> newSlos.put(o.service() + ".slos." + o.name(), o));
    oldSlos.keySet().stream()
        .filter(k -> !newSlos.containsKey(k))
        .forEach(k -> out.add("- services." + k));
    newSlos.forEach(
        (k, o) -> {
          if (!oldSlos.containsKey(k)) {
            out.add("+ services." + k);
          } else if (!oldSlos.get(k).equals(o)) {
            out.add("~ services." + k + ": (changed)");
          }
        });
    if (!java.util.Objects.equals(before.routing(), after.routing())) {
      // Receivers carry credentials: say that, not what, changed.
      out.add("~ alerting.routing: (changed)");
    }
    Map<String, dev.pilothouse.core.alerting.RuleGroup> old = new java.util.LinkedHashMap<>();
    before.groups().forEach(g -> old.put(g.name(), g));
    Map<String, dev.pilothouse.core.alerting.RuleGroup> now = new java.util.LinkedHashMap<>();
    after.groups().forEach(g -> now.put(g.name(), g));
    old.keySet().stream()
        .filter(k -> !now.containsKey(k))
        .forEach(k -> out.add("- alerting.groups." + k));
    now.forEach(
        (k, g) -> {
          var was = old.get(k);
          if (was == null) {
            out.add("+ alerting.groups." + k + " (" + g.rules().size() + " rules)");
          } else if (!was.equals(g)) {
            Map<String, dev.pilothouse.core.alerting.Rule> a = new java.util.LinkedHashMap<>();
            was.rules().forEach(r -> a.put(r.name(), r));
            Map<String, dev.pilothouse.core.alerting.Rule> b = new java.util.LinkedHashMap<>();
            g.rules().forEach(r -> b.put(r.name(), r));
            String path = "alerting.groups." + k;
            compare(path + ".interval", was.interval(), g.interval(), out);
            a.keySet().stream()
                .filter(n -> !b.containsKey(n))
                .forEach(n -> out.add("- " + path + "." + n));
            b.forEach(
                (n, r) -> {
                  if (!a.containsKey(n)) {
                    out.add("+ " + path + "." + n);
                  } else if (!a.get(n).equals(r)) {
                    out.add("~ " + path + "." + n + ": (changed)");
                  }
                });
          }
        });
  }

  private static void compare(String path, Object a, Object b, List<String> out) {
    if (Objects.equals(a, b)) {
      return;
    }
    if (a != null
        && b != null
        && a.getClass().isRecord()
        && a.getClass() == b.getClass()
        && !SpecTerms.isValue(a)) {
      for (RecordComponent c : a.getClass().getRecordComponents()) {
        if (c.getName().equals("name")) {
          continue;
        }
        Class<?> owner = a.getClass();
        compare(
            path + "." + SpecTerms.field(owner, c.getName()),
            SpecTerms.value(owner, c.getName(), read(c, a)),
            SpecTerms.value(owner, c.getName(), read(c, b)),
            out);
      }
      return;
    }
    if (path.equals("metrics.remoteWrite")) {
      out.add("~ metrics.remoteWrite: (changed)"); // URLs may hold credentials
      return;
    }
    if (path.endsWith(".env") && a instanceof Map<?, ?> m1 && b instanceof Map<?, ?> m2) {
      // Environment values may hold secrets: name the keys that changed, never the values.
      Set<Object> keys = new TreeSet<>();
      keys.addAll(m1.keySet());
      keys.addAll(m2.keySet());
      for (Object k : keys) {
        if (!m2.containsKey(k)) {
          out.add("- " + path + "." + k);
        } else if (!m1.containsKey(k)) {
          out.add("+ " + path + "." + k);
        } else if (!Objects.equals(m1.get(k), m2.get(k))) {
          out.add("~ " + path + "." + k + ": (value changed)");
        }
      }
      return;
    }
    if (a instanceof List<?> l1 && b instanceof List<?> l2 && l1.size() == l2.size()) {
      for (int i = 0; i < l1.size(); i++) {
        compare(path + "[" + i + "]", l1.get(i), l2.get(i), out);
      }
      return;
    }
    out.add("~ " + path + ": " + SpecTerms.render(a) + " -> " + SpecTerms.render(b));
  }

  private static Object read(RecordComponent c, Object o) {
    try {
      return c.getAccessor().invoke(o);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("reading " + c.getName(), e);
    }
  }
}
