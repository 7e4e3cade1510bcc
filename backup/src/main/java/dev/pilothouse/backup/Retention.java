package dev.pilothouse.backup;

import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.IsoFields;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which snapshots a retention policy keeps, as restic's {@code forget} decides: the newest {@code
 * last}; then, going back in time, the newest snapshot of each of the newest {@code daily} days
 * that have one, likewise weeks (ISO) and months. A snapshot kept for any reason stays. A policy
 * that keeps nothing keeps everything (it is no policy).
 */
public final class Retention {

  /** How many snapshots to keep, by recency and by calendar bucket. */
  public record Keep(int last, int daily, int weekly, int monthly) {
    public boolean none() {
      return last <= 0 && daily <= 0 && weekly <= 0 && monthly <= 0;
    }
  }

  /** A decision: each snapshot kept with its reasons, the rest to forget. */
  public record Decision(Map<Snapshot, List<String>> keep, List<Snapshot> forget) {}

  private Retention() {}

  /** Decides for the snapshots of one service. */
  public static Decision apply(List<Snapshot> snapshots, Keep keep, ZoneId zone) {
    List<Snapshot> newest = new ArrayList<>(snapshots);
    newest.sort(Comparator.comparing(Snapshot::time).reversed());
    Map<Snapshot, List<String>> kept = new LinkedHashMap<>();
    if (keep.none()) {
      for (Snapshot s : newest) {
        kept.computeIfAbsent(s, k -> new ArrayList<>()).add("no retention policy");
      }
      return new Decision(kept, List.of());
    }
    for (int i = 0; i < newest.size() && i < keep.last(); i++) {
      kept.computeIfAbsent(newest.get(i), k -> new ArrayList<>()).add("last");
    }
    bucket(newest, keep.daily(), "daily", zone, t -> t.toLocalDate().toString(), kept);
    bucket(
        newest,
        keep.weekly(),
        "weekly",
        zone,
        t -> t.get(IsoFields.WEEK_BASED_YEAR) + "-W" + t.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR),
        kept);
    bucket(
        newest, keep.monthly(), "monthly", zone, t -> t.getYear() + "-" + t.getMonthValue(), kept);
    List<Snapshot> forget = newest.stream().filter(s -> !kept.containsKey(s)).toList();
    return new Decision(kept, forget);
  }

  private static void bucket(
      List<Snapshot> newest,
      int n,
      String reason,
      ZoneId zone,
      java.util.function.Function<ZonedDateTime, String> key,
      Map<Snapshot, List<String>> kept) {
    Set<String> seen = new HashSet<>();
    for (Snapshot s : newest) {
      if (seen.size() >= n) {
        return;
      }
      if (seen.add(key.apply(s.time().atZone(zone)))) {
        kept.computeIfAbsent(s, k -> new ArrayList<>()).add(reason);
      }
    }
  }
}
