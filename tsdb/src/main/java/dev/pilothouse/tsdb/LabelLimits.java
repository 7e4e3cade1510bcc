package dev.pilothouse.tsdb;

/**
 * What a series' labels may be, checked where samples arrive (remote write, scrapes): Prometheus's
 * label name syntax, a metric name, and bounds on the number of labels and their lengths.
 *
 * @param maxLabels labels per series, the metric name included
 * @param maxNameLength characters of a label name
 * @param maxValueLength characters of a label value
 */
public record LabelLimits(int maxLabels, int maxNameLength, int maxValueLength) {
  public LabelLimits {
    if (maxLabels <= 0 || maxNameLength <= 0 || maxValueLength <= 0) {
      throw new IllegalArgumentException(
          "label limits must be > 0, but were "
              + maxLabels
              + ", "
              + maxNameLength
              + " and "
              + maxValueLength);
    }
  }

  /** 64 labels, names of 256 characters, values of 4096. */
  public static LabelLimits defaults() {
    return new LabelLimits(64, 256, 4096);
  }

  /** What is wrong with these labels, or null when nothing is. */
  public String check(Labels l) {
    if (l.size() > maxLabels) {
      return "series "
          + brief(l)
          + " has "
          + l.size()
          + " labels, more than the limit of "
          + maxLabels;
    }
    String metric = l.get(Labels.NAME);
    if (metric.isEmpty()) {
      return "series " + brief(l) + " has no metric name (__name__)";
    }
    if (!validName(metric, true)) {
      return "invalid metric name '" + brief(metric) + "': use letters, digits, '_' and ':'";
    }
    for (int i = 0; i < l.size(); i++) {
      String n = l.name(i);
      if (n.length() > maxNameLength) {
        return "label name '" + brief(n) + "' is longer than the limit of " + maxNameLength;
      }
      if (!validName(n, false)) {
        return "invalid label name '"
            + brief(n)
            + "': use letters, digits and '_', not first a digit";
      }
      if (l.value(i).length() > maxValueLength) {
        return "label '"
            + n
            + "' of "
            + brief(l)
            + " has a value of "
            + l.value(i).length()
            + " characters, more than the limit of "
            + maxValueLength;
      }
    }
    return null;
  }

  /** Prometheus's [a-zA-Z_][a-zA-Z0-9_]* for labels; metric names may have ':' too. */
  public static boolean validName(String s, boolean metric) {
    if (s.isEmpty()) {
      return false;
    }
    for (int k = 0; k < s.length(); k++) {
      char c = s.charAt(k);
      boolean ok =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || c == '_'
              || (metric && c == ':')
              || (k > 0 && c >= '0' && c <= '9');
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  private static String brief(Labels l) {
    return brief(l.get(Labels.NAME).isEmpty() ? l.toString() : l.get(Labels.NAME) + "{…}");
  }

  private static String brief(String s) {
    return s.length() <= 64 ? s : s.substring(0, 64) + "…";
  }
}
