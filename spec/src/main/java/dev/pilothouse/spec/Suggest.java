package dev.pilothouse.spec;

import java.util.List;
import java.util.Optional;

/** Suggests the nearest known name for a misspelt one. */
final class Suggest {
  private Suggest() {}

  /** The known name closest to s by edit distance, when close enough to be a likely typo. */
  static Optional<String> nearest(String s, List<String> known) {
    String a = Fields.norm(s);
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String k : known) {
      int d = distance(a, Fields.norm(k));
      if (d < bestDistance) {
        bestDistance = d;
        best = k;
      }
    }
    if (best == null) {
      return Optional.empty();
    }
    int allowed = Math.max(2, Fields.norm(best).length() / 3);
    boolean prefix = a.length() >= 3 && Fields.norm(best).startsWith(a);
    return bestDistance <= allowed || prefix ? Optional.of(best) : Optional.empty();
  }

  /** Levenshtein distance. */
  static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
