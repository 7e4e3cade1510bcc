package dev.pilothouse.tsdb;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An immutable set of label name/value pairs, sorted by name; identifies a series. {@code __name__}
 * holds the metric name. Empty values are the same as absent labels.
 */
public final class Labels implements Comparable<Labels> {
  public static final String NAME = "__name__";
  public static final Labels EMPTY = new Labels(new String[0]);

  private final String[] kv; // name0, value0, name1, value1, ... sorted by name
  private int hash;
  private Labels withoutName; // cached: queries drop the name of the same series at every step

  private Labels(String[] kv) {
    this.kv = kv;
  }

  /** Labels from name, value, name, value...; empty values are dropped. */
  public static Labels of(String... nameValues) {
    if (nameValues.length % 2 != 0) {
      throw new IllegalArgumentException("labels come in name/value pairs");
    }
    TreeMap<String, String> m = new TreeMap<>();
    for (int i = 0; i < nameValues.length; i += 2) {
      m.put(nameValues[i], nameValues[i + 1]);
    }
    return of(m);
  }

  /** Labels from a map; empty values are dropped. */
  public static Labels of(Map<String, String> map) {
    TreeMap<String, String> m = new TreeMap<>(map);
    List<String> out = new ArrayList<>(m.size() * 2);
    m.forEach(
        (k, v) -> {
          if (v != null && !v.isEmpty()) {
            out.add(k);
            out.add(v);
          }
        });
    return new Labels(out.toArray(String[]::new));
  }

  public int size() {
    return kv.length / 2;
  }

  public String name(int i) {
    return kv[2 * i];
  }

  public String value(int i) {
    return kv[2 * i + 1];
  }

  /** The value of a label, or "" when absent. */
  public String get(String name) {
    int lo = 0;
    int hi = size() - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      int c = kv[2 * mid].compareTo(name);
      if (c == 0) {
        return kv[2 * mid + 1];
      }
      if (c < 0) {
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return "";
  }

  /** The metric name, or "". */
  public String metricName() {
    return get(NAME);
  }

  public Map<String, String> toMap() {
    Map<String, String> m = new TreeMap<>();
    for (int i = 0; i < size(); i++) {
      m.put(name(i), value(i));
    }
    return m;
  }

  /** A copy without the named labels. */
  public Labels without(Collection<String> names) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < size(); i++) {
      if (!names.contains(name(i))) {
        out.add(name(i));
        out.add(value(i));
      }
    }
    return out.size() == kv.length ? this : new Labels(out.toArray(String[]::new));
  }

  /** A copy with only the named labels. */
  public Labels keep(Collection<String> names) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < size(); i++) {
      if (names.contains(name(i))) {
        out.add(name(i));
        out.add(value(i));
      }
    }
    return out.size() == kv.length ? this : new Labels(out.toArray(String[]::new));
  }

  /**
   * The same labels with every name and value taken from pool (added when new), so that series held
   * for long share their strings.
   */
  Labels interned(java.util.Map<String, String> pool) {
    String[] out = new String[kv.length];
    for (int i = 0; i < kv.length; i++) {
      String s = pool.putIfAbsent(kv[i], kv[i]);
      out[i] = s == null ? kv[i] : s;
    }
    return new Labels(out);
  }

  /** A copy without the metric name (the same instance every time). */
  public Labels dropName() {
    Labels d = withoutName;
    if (d == null) {
      d = get(NAME).isEmpty() ? this : without(List.of(NAME));
      withoutName = d;
    }
    return d;
  }

  /** A copy with one label set (or removed, for an empty value). */
  public Labels with(String name, String value) {
    Map<String, String> m = toMap();
    if (value == null || value.isEmpty()) {
      m.remove(name);
    } else {
      m.put(name, value);
    }
    return of(m);
  }

  @Override
  public boolean equals(Object o) {
    return this == o || o instanceof Labels l && Arrays.equals(kv, l.kv);
  }

  @Override
  public int hashCode() {
    int h = hash;
    if (h == 0) {
      h = Arrays.hashCode(kv);
      hash = h;
    }
    return h;
  }

  @Override
  public int compareTo(Labels o) {
    int n = Math.min(kv.length, o.kv.length);
    for (int i = 0; i < n; i++) {
      int c = kv[i].compareTo(o.kv[i]);
      if (c != 0) {
        return c;
      }
    }
    return Integer.compare(kv.length, o.kv.length);
  }

  /** Prometheus notation: {@code name{a="b", c="d"}}. */
  @Override
  public String toString() {
    StringBuilder b = new StringBuilder();
    String name = metricName();
    b.append(name);
    b.append('{');
    boolean first = true;
    for (int i = 0; i < size(); i++) {
      if (name(i).equals(NAME)) {
        continue;
      }
      if (!first) {
        b.append(", ");
      }
      first = false;
      b.append(name(i)).append("=\"").append(escape(value(i))).append('"');
    }
    return b.append('}').toString();
  }

  static String escape(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }
}
