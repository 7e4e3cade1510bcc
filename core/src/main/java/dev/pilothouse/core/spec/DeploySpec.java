package dev.pilothouse.core.spec;

import static java.util.Objects.requireNonNull;

import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Set;

/**
 * What has to hold, and what is saved, before a new version of a service starts: the pre-flight
 * checks and the state backup.
 *
 * @param artifact a file the new version needs (e.g. its jar), empty for none
 * @param sha256 the artifact's expected SHA-256 in hex, empty for no check
 * @param dependsOn services that must have a ready instance
 * @param freeze windows in which deploys are refused
 * @param minFreeDisk bytes that must be free on the state directory's file system
 * @param minFreeMemory bytes of memory that must be available beyond what the new instances declare
 *     in resources.memory
 * @param dataPaths files or directories copied into the backup before the deploy
 * @param preDeploy a command run before any new instance starts (e.g. a database dump), empty for
 *     none
 * @param preDeployTimeout the hook is killed, and the deploy refused, after this long
 * @param keepBackups how many backups per service are kept
 * @param scanBlockOn null for no vulnerability gate; else the least severity (critical, high,
 *     medium, low) of a known vulnerability in the service's artifacts that refuses the deploy
 */
public record DeploySpec(
    String artifact,
    String sha256,
    List<String> dependsOn,
    List<FreezeWindow> freeze,
    long minFreeDisk,
    long minFreeMemory,
    List<String> dataPaths,
    String preDeploy,
    Duration preDeployTimeout,
    int keepBackups,
    String scanBlockOn) {

  /** Deploy settings without a vulnerability gate. */
  public DeploySpec(
      String artifact,
      String sha256,
      List<String> dependsOn,
      List<FreezeWindow> freeze,
      long minFreeDisk,
      long minFreeMemory,
      List<String> dataPaths,
      String preDeploy,
      Duration preDeployTimeout,
      int keepBackups) {
    this(
        artifact,
        sha256,
        dependsOn,
        freeze,
        minFreeDisk,
        minFreeMemory,
        dataPaths,
        preDeploy,
        preDeployTimeout,
        keepBackups,
        null);
  }

  /**
   * A time in which deploys are refused: either one absolute interval (start, end) or a weekly
   * recurrence (days, from, to in a time zone).
   */
  public record FreezeWindow(
      Instant start,
      Instant end,
      Set<DayOfWeek> days,
      LocalTime from,
      LocalTime to,
      String zone,
      String reason) {
    public FreezeWindow {
      days = days == null ? Set.of() : Set.copyOf(days);
      reason = reason == null ? "" : reason;
      zone = zone == null ? "UTC" : zone;
    }

    /** Whether the window covers t. A weekly window with to ≤ from runs past midnight. */
    public boolean covers(Instant t) {
      if (start != null && end != null) {
        return !t.isBefore(start) && t.isBefore(end);
      }
      ZonedDateTime z = t.atZone(ZoneId.of(zone));
      LocalTime lt = z.toLocalTime();
      LocalTime f = from == null ? LocalTime.MIN : from;
      boolean allDay = to == null || (from == null && to.equals(LocalTime.MIDNIGHT));
      if (allDay) {
        return days.contains(z.getDayOfWeek()) && !lt.isBefore(f);
      }
      if (to.isAfter(f)) {
        return days.contains(z.getDayOfWeek()) && !lt.isBefore(f) && lt.isBefore(to);
      }
      // Past midnight: the part after midnight belongs to the previous day's window.
      return (days.contains(z.getDayOfWeek()) && !lt.isBefore(f))
          || (days.contains(z.getDayOfWeek().minus(1)) && lt.isBefore(to));
    }

    /** How users read the window. */
    public String describe() {
      String what =
          start != null
              ? start + " to " + end
              : days.stream()
                      .sorted()
                      .map(d -> d.toString().substring(0, 3).toLowerCase(java.util.Locale.ROOT))
                      .toList()
                  + " "
                  + (from == null ? "00:00" : from)
                  + "–"
                  + (to == null ? "24:00" : to)
                  + " "
                  + zone;
      return reason.isEmpty() ? what : what + " (" + reason + ")";
    }
  }

  public DeploySpec {
    requireNonNull(artifact, "artifact");
    requireNonNull(sha256, "sha256");
    dependsOn = List.copyOf(dependsOn);
    freeze = List.copyOf(freeze);
    dataPaths = List.copyOf(dataPaths);
    requireNonNull(preDeploy, "preDeploy");
    requireNonNull(preDeployTimeout, "preDeployTimeout");
    if (minFreeDisk < 0 || minFreeMemory < 0 || keepBackups < 1) {
      throw new IllegalArgumentException("invalid deploy settings");
    }
  }

  /** The defaults: 100 MiB of free disk, no other checks, no backup beyond the release. */
  public static DeploySpec defaults() {
    return new DeploySpec(
        "", "", List.of(), List.of(), 100L << 20, 0, List.of(), "", Duration.ofMinutes(5), 5);
  }

  /** Whether there is anything to back up beyond the release record. */
  public boolean backsUpData() {
    return !dataPaths.isEmpty() || !preDeploy.isEmpty();
  }
}
