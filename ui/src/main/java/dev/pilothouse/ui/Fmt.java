package dev.pilothouse.ui;

import java.util.Locale;

/** How figures read on the pages: short, with units, and a dash where nothing was measured. */
public final class Fmt {
  private Fmt() {}

  /** Requests per second. */
  public static String rate(Double perSecond) {
    if (perSecond == null || perSecond.isNaN()) {
      return "–";
    }
    return (perSecond >= 100 ? String.format(Locale.ROOT, "%.0f", perSecond) : num(perSecond, 2))
        + "/s";
  }

  /** A ratio as a percentage. */
  public static String percent(Double ratio) {
    if (ratio == null || ratio.isNaN()) {
      return "–";
    }
    return num(ratio * 100, ratio < 0.01 ? 3 : 2) + " %";
  }

  /** Seconds, in ms below one second. */
  public static String seconds(Double s) {
    if (s == null || s.isNaN() || s.isInfinite()) {
      return "–";
    }
    return s < 1 ? num(s * 1000, 1) + " ms" : num(s, 2) + " s";
  }

  /** Bytes in binary units. */
  public static String bytes(Double b) {
    if (b == null || b.isNaN()) {
      return "–";
    }
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = b;
    int u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return num(v, u == 0 ? 0 : 1) + " " + units[u];
  }

  /** CPU in cores. */
  public static String cores(Double c) {
    return c == null || c.isNaN() ? "–" : num(c, 3);
  }

  /** A number with at most this many decimals, trailing zeros dropped. */
  public static String num(double v, int decimals) {
    String s = String.format(Locale.ROOT, "%." + decimals + "f", v);
    if (s.contains(".")) {
      s = s.replaceAll("0+$", "").replaceAll("\\.$", "");
    }
    return s;
  }

  /** An ISO-8601 instant without its fraction of a second. */
  public static String time(String iso) {
    if (iso == null || iso.isEmpty()) {
      return "–";
    }
    int dot = iso.indexOf('.');
    return (dot > 0 ? iso.substring(0, dot) + "Z" : iso).replace('T', ' ');
  }

  /** The CSS class of a state: ok, warn or bad. */
  public static String tone(String state) {
    if (state == null) {
      return "muted";
    }
    return switch (state.toLowerCase(Locale.ROOT)) {
      case "running", "ready", "promoted", "healthy", "serving", "pass", "passed", "resolved" ->
          "ok";
      case "progressing",
          "validating",
          "paused",
          "pending",
          "starting",
          "connecting",
          "waiting",
          "active",
          "acknowledged" ->
          "warn";
      case "degraded",
          "crash-loop",
          "rolledback",
          "failing",
          "down",
          "fail",
          "failed",
          "firing",
          "stopped",
          "quarantined",
          "triggered",
          "revoked" ->
          "bad";
      default -> "muted";
    };
  }
}
