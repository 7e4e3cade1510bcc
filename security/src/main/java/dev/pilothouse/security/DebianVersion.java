package dev.pilothouse.security;

/**
 * dpkg's version ordering ([epoch:]upstream[-revision]): epochs as numbers, then upstream and
 * revision each compared as alternating non-digit and digit runs, where '~' sorts before anything
 * (even the end), letters before other characters (deb-version(7)).
 */
final class DebianVersion {
  private DebianVersion() {}

  static int compare(String a, String b) {
    String[] x = split(a.trim());
    String[] y = split(b.trim());
    int e = Long.compare(Long.parseLong(x[0]), Long.parseLong(y[0]));
    if (e != 0) {
      return e;
    }
    int u = part(x[1], y[1]);
    return u != 0 ? u : part(x[2], y[2]);
  }

  /** epoch, upstream, revision. */
  private static String[] split(String v) {
    String epoch = "0";
    int colon = v.indexOf(':');
    if (colon > 0 && v.substring(0, colon).chars().allMatch(Character::isDigit)) {
      epoch = v.substring(0, colon);
      v = v.substring(colon + 1);
    }
    int dash = v.lastIndexOf('-');
    return dash >= 0
        ? new String[] {epoch, v.substring(0, dash), v.substring(dash + 1)}
        : new String[] {epoch, v, ""};
  }

  private static int order(char c) {
    if (Character.isDigit(c)) {
      return 0;
    }
    if (Character.isLetter(c)) {
      return c;
    }
    if (c == '~') {
      return -1;
    }
    return c + 256;
  }

  private static int part(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() || j < b.length()) {
      int firstDiff = 0;
      while ((i < a.length() && !Character.isDigit(a.charAt(i)))
          || (j < b.length() && !Character.isDigit(b.charAt(j)))) {
        int ac = i < a.length() ? order(a.charAt(i)) : 0;
        int bc = j < b.length() ? order(b.charAt(j)) : 0;
        if (ac != bc) {
          return Integer.compare(ac, bc);
        }
        i++;
        j++;
      }
      while (i < a.length() && a.charAt(i) == '0') {
        i++;
      }
      while (j < b.length() && b.charAt(j) == '0') {
        j++;
      }
      while (i < a.length()
          && Character.isDigit(a.charAt(i))
          && j < b.length()
          && Character.isDigit(b.charAt(j))) {
        if (firstDiff == 0) {
          firstDiff = a.charAt(i) - b.charAt(j);
        }
        i++;
        j++;
      }
      if (i < a.length() && Character.isDigit(a.charAt(i))) {
        return 1;
      }
      if (j < b.length() && Character.isDigit(b.charAt(j))) {
        return -1;
      }
      if (firstDiff != 0) {
        return Integer.signum(firstDiff);
      }
    }
    return 0;
  }
}
