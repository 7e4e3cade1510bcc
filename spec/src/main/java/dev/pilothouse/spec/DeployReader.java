package dev.pilothouse.spec;

import dev.pilothouse.core.spec.DeploySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** A service's {@code deploy:}: dependencies, artifact checks, freeze windows, backups. */
final class DeployReader extends SectionReader {
  DeployReader(SectionReader parent) {
    super(parent);
  }

  DeploySpec deploy(Fields f) {
    DeploySpec d = DeploySpec.defaults();
    String artifact =
        f.string("artifact")
            .map(a -> interpolate(a, f.get("artifact").orElseThrow(), f.join("artifact")))
            .map(a -> baseDir.resolve(a).normalize().toString())
            .orElse("");
    String sha = f.string("sha256").map(x -> x.toLowerCase(Locale.ROOT)).orElse("");
    if (!sha.isEmpty() && !sha.matches("[0-9a-f]{64}")) {
      problems.at(
          f.get("sha256").orElseThrow(),
          f.join("sha256"),
          "must be 64 hex digits",
          "write the output of 'sha256sum FILE'");
    }
    if (!sha.isEmpty() && artifact.isEmpty()) {
      problems.at(
          f.get("sha256").orElseThrow(),
          f.join("sha256"),
          "a checksum needs an artifact",
          "add 'artifact: PATH' naming the file to check");
    }
    List<String> dependsOn = f.strings("dependsOn").orElse(List.of());
    List<DeploySpec.FreezeWindow> freeze = new ArrayList<>();
    for (Fields ff :
        objects(f, "freeze", FREEZE, "write e.g. '- {days: [sat, sun], reason: weekend}'")) {
      freeze(ff).ifPresent(freeze::add);
    }
    long minDisk = memoryField(f, "minFreeDisk", d.minFreeDisk());
    long minMem = memoryField(f, "minFreeMemory", d.minFreeMemory());
    List<String> paths = f.strings("dataPaths").orElse(List.of());
    List<String> data = new ArrayList<>();
    for (int i = 0; i < paths.size(); i++) {
      Node at = ((Node.ListNode) f.get("dataPaths").orElseThrow()).items().get(i);
      String p = interpolate(paths.get(i), at, f.join("dataPaths") + "[" + i + "]");
      data.add(baseDir.resolve(p).normalize().toString());
    }
    String hook =
        f.string("preDeploy")
            .map(h -> interpolate(h, f.get("preDeploy").orElseThrow(), f.join("preDeploy")))
            .orElse("");
    Duration hookTimeout = duration(f, "preDeployTimeout", d.preDeployTimeout(), false);
    int keep = f.integer("keepBackups", 1, 1000).map(Long::intValue).orElse(d.keepBackups());
    String blockOn = null;
    Optional<Fields> scan = f.object("scan", List.of("blockOn"));
    if (scan.isPresent()) {
      blockOn = scan.get().string("blockOn").orElse("critical");
      if (!List.of("critical", "high", "medium", "low").contains(blockOn)) {
        problems.at(
            scan.get().get("blockOn").orElseThrow(),
            scan.get().join("blockOn"),
            "unknown severity '" + blockOn + "'",
            "write critical, high, medium or low: a finding at it or above refuses the deploy");
        blockOn = null;
      }
    }
    return new DeploySpec(
        artifact, sha, dependsOn, freeze, minDisk, minMem, data, hook, hookTimeout, keep, blockOn);
  }

  Optional<DeploySpec.FreezeWindow> freeze(Fields f) {
    String reason = f.string("reason").orElse("");
    if (f.has("start") || f.has("end")) {
      Optional<Instant> start = instant(f, "start");
      Optional<Instant> end = instant(f, "end");
      if (start.isEmpty() || end.isEmpty()) {
        if (!f.has("start") || !f.has("end")) {
          problems.at(
              f.node(),
              f.path(),
              "an absolute freeze window needs both 'start' and 'end'",
              "write e.g. '{start: 2026-12-24T00:00:00Z, end: 2026-12-27T00:00:00Z}'");
        }
        return Optional.empty();
      }
      if (!end.get().isAfter(start.get())) {
        problems.at(f.get("end").orElseThrow(), f.join("end"), "must be after start", "swap them");
        return Optional.empty();
      }
      return Optional.of(
          new DeploySpec.FreezeWindow(start.get(), end.get(), null, null, null, "UTC", reason));
    }
    List<String> dayNames = f.strings("days").orElse(List.of());
    if (dayNames.isEmpty()) {
      problems.at(
          f.node(),
          f.path(),
          "a freeze window needs 'start' and 'end', or weekly 'days'",
          "write e.g. '{days: [fri, sat, sun], from: \"16:00\", to: \"23:59\"}'");
      return Optional.empty();
    }
    java.util.Set<java.time.DayOfWeek> days = new java.util.HashSet<>();
    for (int i = 0; i < dayNames.size(); i++) {
      Optional<java.time.DayOfWeek> day = day(dayNames.get(i));
      if (day.isEmpty()) {
        problems.at(
            ((Node.ListNode) f.get("days").orElseThrow()).items().get(i),
            f.join("days") + "[" + i + "]",
            "unknown day '" + dayNames.get(i) + "'",
            "use mon, tue, wed, thu, fri, sat or sun");
      } else {
        days.add(day.get());
      }
    }
    java.time.LocalTime from = time(f, "from");
    java.time.LocalTime to = time(f, "to");
    String zone = f.string("timezone").orElse("UTC");
    try {
      java.time.ZoneId.of(zone);
    } catch (java.time.DateTimeException e) {
      problems.at(
          f.get("timezone").orElseThrow(),
          f.join("timezone"),
          "unknown time zone '" + zone + "'",
          "write an IANA zone such as Europe/Berlin, or UTC");
      return Optional.empty();
    }
    return Optional.of(new DeploySpec.FreezeWindow(null, null, days, from, to, zone, reason));
  }

  static Optional<java.time.DayOfWeek> day(String name) {
    String n = name.trim().toLowerCase(Locale.ROOT);
    for (java.time.DayOfWeek d : java.time.DayOfWeek.values()) {
      String full = d.toString().toLowerCase(Locale.ROOT);
      if (n.length() >= 3 && full.startsWith(n)) {
        return Optional.of(d);
      }
    }
    return Optional.empty();
  }

  java.time.LocalTime time(Fields f, String field) {
    Optional<Node> on = f.get(field);
    if (on.isEmpty()) {
      return null;
    }
    String text = on.get() instanceof Node.Scalar sc ? sc.text().trim() : "";
    if (text.equals("24:00")) {
      return null;
    }
    try {
      return java.time.LocalTime.parse(text.length() == 4 ? "0" + text : text);
    } catch (java.time.format.DateTimeParseException e) {
      problems.at(
          on.get(),
          f.join(field),
          "invalid time of day " + Fields.describe(on.get()),
          "write HH:MM in quotes, e.g. \"16:00\"");
      return null;
    }
  }

  Optional<Instant> instant(Fields f, String field) {
    Optional<Node> on = f.get(field);
    if (on.isEmpty()) {
      return Optional.empty();
    }
    String text = on.get() instanceof Node.Scalar sc ? sc.text().trim() : "";
    try {
      return Optional.of(java.time.OffsetDateTime.parse(text).toInstant());
    } catch (java.time.format.DateTimeParseException e) {
      problems.at(
          on.get(),
          f.join(field),
          "invalid time " + Fields.describe(on.get()),
          "write an ISO 8601 time with offset, e.g. 2026-12-24T00:00:00Z");
      return Optional.empty();
    }
  }
}
