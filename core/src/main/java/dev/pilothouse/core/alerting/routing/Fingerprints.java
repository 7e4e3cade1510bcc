package dev.pilothouse.core.alerting.routing;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/** Alertmanager's (Prometheus's model) fingerprint of a label set, and its printed forms. */
public final class Fingerprints {
  private Fingerprints() {}

  private static final long OFFSET = 0xcbf29ce484222325L;
  private static final long PRIME = 0x100000001b3L;

  /** FNV-1a over sorted names and values, each followed by 0xff; 16 hex digits. */
  public static String of(Map<String, String> labels) {
    long h = OFFSET;
    for (Map.Entry<String, String> e : new TreeMap<>(labels).entrySet()) {
      h = add(h, e.getKey());
      h = (h ^ 0xff) * PRIME;
      h = add(h, e.getValue());
      h = (h ^ 0xff) * PRIME;
    }
    return String.format("%016x", h);
  }

  private static long add(long h, String s) {
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      h = (h ^ (b & 0xff)) * PRIME;
    }
    return h;
  }

  /** A label set as Alertmanager prints it in group keys: {@code {a="1", b="2"}}. */
  public static String labelSet(Map<String, String> labels) {
    StringBuilder sb = new StringBuilder("{");
    boolean first = true;
    for (Map.Entry<String, String> e : new TreeMap<>(labels).entrySet()) {
      sb.append(first ? "" : ", ").append(e.getKey()).append("=\"");
      sb.append(e.getValue().replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n"));
      sb.append('"');
      first = false;
    }
    return sb.append('}').toString();
  }
}
