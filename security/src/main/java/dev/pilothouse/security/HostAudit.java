package dev.pilothouse.security;

import dev.pilothouse.core.security.ApiToken;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Audits a host (or a fixture tree standing for one) against rules ({@link AuditRules}): each
 * finding passes, fails, is skipped (nothing to check here) or is an error, with its evidence and
 * its fix. Fixes that are safe to automate (modes, kernel parameters, sshd and login.defs settings)
 * are applied with a backup of every file changed, then everything is checked again.
 */
public final class HostAudit {
  /** What the audit knows of Pilothouse's own setup (null fields: not known, checks skipped). */
  public record Context(Path stateDir, String apiUrl, boolean tls, List<ApiToken> tokens) {
    public static Context none() {
      return new Context(null, null, false, List.of());
    }
  }

  /** One rule's outcome. */
  public record Finding(
      String id,
      String cis,
      String title,
      int level,
      String area,
      String impact,
      List<String> lynis,
      String status,
      String evidence,
      String fix,
      boolean fixable,
      String rationale) {}

  /**
   * An audit: the findings, how many of each status, and the hardening score (0 to 100: the
   * impact-weighted share of passed among passed and failed; high 3, medium 2, low 1).
   */
  public record Report(
      String profile,
      String root,
      String at,
      int score,
      Map<String, Integer> counts,
      List<Finding> findings) {}

  /** A change --fix made (or, with --dry-run, would make). */
  public record Change(String id, String file, String action, String backup) {}

  /** What --fix did: the audit before, the changes, the audit after, what changed status. */
  public record FixReport(
      boolean dryRun, Report before, List<Change> changes, Report after, List<String> nowPassing) {}

  public static final List<String> PROFILES = List.of("cis-debian12-l1", "cis-debian12-l2");

  /** An active token older than this without an expiry fails PH-PILOT-004. */
  static final Duration TOKEN_AGE = Duration.ofDays(90);

  private final List<AuditRules.Rule> rules;
  private final Path root;
  private final java.time.InstantSource clock;
  private Set<String> installed;

  public HostAudit(List<AuditRules.Rule> rules, Path root, java.time.InstantSource clock) {
    this.rules = List.copyOf(rules);
    this.root = root;
    this.clock = clock;
  }

  /** The level a profile checks (rules of that level and below). */
  static int level(String profile) {
    return switch (profile) {
      case "cis-debian12-l1" -> 1;
      case "cis-debian12-l2" -> 2;
      default ->
          throw new IllegalArgumentException(
              "profile: unknown '" + profile + "'; known: " + String.join(", ", PROFILES));
    };
  }

  public Report run(String profile, Context ctx) {
    int level = level(profile);
    installed = null; // read again: an audit after --fix sees the system as it is now
    List<Finding> out = new ArrayList<>();
    for (AuditRules.Rule r : rules) {
      if (r.level() > level) {
        continue;
      }
      Outcome o;
      try {
        o = check(r.check(), ctx);
      } catch (IOException | RuntimeException e) {
        o = new Outcome("error", "the check failed: " + e.getMessage());
      }
      out.add(
          new Finding(
              r.id(),
              r.cis(),
              r.title(),
              r.level(),
              r.area(),
              r.impact(),
              r.lynis(),
              o.status(),
              o.evidence(),
              fixText(r),
              !r.fix().isEmpty(),
              r.rationale()));
    }
    Map<String, Integer> counts = new LinkedHashMap<>();
    for (String s : List.of("pass", "fail", "skip", "error")) {
      counts.put(s, (int) out.stream().filter(f -> f.status().equals(s)).count());
    }
    int got = 0;
    int of = 0;
    for (Finding f : out) {
      int w = f.impact().equals("high") ? 3 : f.impact().equals("medium") ? 2 : 1;
      if (f.status().equals("pass")) {
        got += w;
        of += w;
      } else if (f.status().equals("fail")) {
        of += w;
      }
    }
    return new Report(
        profile,
        root.toString(),
        clock.instant().toString(),
        of == 0 ? 100 : Math.round(100f * got / of),
        counts,
        List.copyOf(out));
  }

  /**
   * Applies the automatic fixes of the failed findings (or only lists them, with dryRun), backing
   * up every file before its first change into backups, then audits again.
   */
  public FixReport fix(String profile, Context ctx, boolean dryRun, Path backups)
      throws IOException {
    Report before = run(profile, ctx);
    List<Change> changes = new ArrayList<>();
    Map<Path, Path> saved = new HashMap<>();
    for (Finding f : before.findings()) {
      if (!f.status().equals("fail") || !f.fixable()) {
        continue;
      }
      AuditRules.Rule r =
          rules.stream().filter(x -> x.id().equals(f.id())).findFirst().orElseThrow();
      changes.addAll(apply(r, dryRun, backups, saved));
    }
    Report after = dryRun ? before : run(profile, ctx);
    List<String> now = new ArrayList<>();
    if (!dryRun) {
      Map<String, String> was = new HashMap<>();
      before.findings().forEach(x -> was.put(x.id(), x.status()));
      after.findings().stream()
          .filter(x -> x.status().equals("pass") && !"pass".equals(was.get(x.id())))
          .forEach(x -> now.add(x.id()));
    }
    return new FixReport(dryRun, before, List.copyOf(changes), after, List.copyOf(now));
  }

  record Outcome(String status, String evidence) {
    static Outcome pass(String e) {
      return new Outcome("pass", e);
    }

    static Outcome fail(String e) {
      return new Outcome("fail", e);
    }

    static Outcome skip(String e) {
      return new Outcome("skip", e);
    }
  }

  private Outcome check(Map<String, String> c, Context ctx) throws IOException {
    return switch (c.get("type")) {
      case "file-mode" -> fileMode(c);
      case "sysctl" -> sysctl(c);
      case "mount" -> mount(c);
      case "package" -> packages(c);
      case "service" -> service(c);
      case "sshd" -> sshd(c);
      case "config" -> config(c);
      case "contains" -> contains(c);
      case "accounts" -> accounts(c);
      case "process" -> process(c);
      case "pilothouse" -> pilothouse(c, ctx);
      default -> new Outcome("error", "unknown check type " + c.get("type"));
    };
  }

  /** A path of the audited system, under root. */
  Path at(String path) {
    return root.resolve(path.startsWith("/") ? path.substring(1) : path);
  }

  private Outcome fileMode(Map<String, String> c) throws IOException {
    Path p = at(c.get("path"));
    if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
      return Outcome.skip(c.get("path") + " does not exist");
    }
    int mode = mode(p);
    int max = Integer.parseInt(c.get("mode"), 8);
    int uid = (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    String have = c.get("path") + " is " + octal(mode) + " uid " + uid;
    if ((mode & ~max) != 0) {
      return Outcome.fail(have + "; at most " + octal(max) + " is allowed");
    }
    if ("root".equals(c.get("owner")) && uid != 0) {
      return Outcome.fail(have + "; root (uid 0) must own it");
    }
    return Outcome.pass(have);
  }

  static int mode(Path p) throws IOException {
    int m = 0;
    for (PosixFilePermission x : Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS)) {
      m |= 1 << (8 - x.ordinal());
    }
    return m;
  }

  static String octal(int mode) {
    return String.format("%04o", mode);
  }

  private Outcome sysctl(Map<String, String> c) throws IOException {
    Path p = at("/proc/sys/" + c.get("key").replace('.', '/'));
    if (!Files.exists(p)) {
      return Outcome.skip("the kernel has no " + c.get("key"));
    }
    String v = Files.readString(p).trim().replaceAll("\\s+", " ");
    return compare(c.get("key") + " = " + v, v, c.get("op"), c.get("value"));
  }

  private static Outcome compare(String evidence, String have, String op, String want) {
    boolean ok =
        switch (op) {
          case "eq" -> have.equalsIgnoreCase(want);
          case "ne" -> !have.equalsIgnoreCase(want);
          case "in" ->
              Arrays.stream(want.split(",")).map(String::trim).anyMatch(have::equalsIgnoreCase);
          case "le", "ge" -> {
            try {
              long h = Long.parseLong(have.trim());
              long w = Long.parseLong(want.trim());
              yield op.equals("le") ? h <= w : h >= w;
            } catch (NumberFormatException e) {
              yield false;
            }
          }
          default -> false;
        };
    String expect =
        switch (op) {
          case "eq" -> "expected " + want;
          case "ne" -> "expected anything but " + want;
          case "in" -> "expected one of " + want;
          case "le" -> "expected at most " + want;
          default -> "expected at least " + want;
        };
    return ok ? Outcome.pass(evidence) : Outcome.fail(evidence + "; " + expect);
  }

  private Outcome mount(Map<String, String> c) throws IOException {
    Path mounts = root.toString().equals("/") ? Path.of("/proc/self/mounts") : at("/proc/mounts");
    if (!Files.exists(mounts)) {
      return Outcome.skip("no mount table");
    }
    String point = c.get("mount");
    String[] found = null;
    for (String line : Files.readAllLines(mounts)) {
      String[] f = line.split("\\s+");
      if (f.length >= 4 && f[1].equals(point)) {
        found = f; // the last mount on a point is the one in effect
      }
    }
    String option = c.get("option");
    if (found == null) {
      return Outcome.fail(point + " is not a separate file system");
    }
    Set<String> have = new LinkedHashSet<>(Arrays.asList(found[3].split(",")));
    if (option == null) {
      return Outcome.pass(point + " is mounted (" + found[2] + ", " + found[0] + ")");
    }
    List<String> missing = Arrays.stream(option.split(",")).filter(o -> !have.contains(o)).toList();
    return missing.isEmpty()
        ? Outcome.pass(point + " is mounted with " + found[3])
        : Outcome.fail(
            point + " is mounted with " + found[3] + "; missing " + String.join(",", missing));
  }

  /**
   * Installed binary packages (dpkg's status file, read once per audit; null when there is none).
   */
  Set<String> installed() throws IOException {
    if (installed == null && Files.exists(at("/var/lib/dpkg/status"))) {
      Set<String> names = new LinkedHashSet<>();
      Sbom.fromDpkg(root).forEach(c -> names.add(c.source()));
      installed = names;
    }
    return installed;
  }

  private Outcome packages(Map<String, String> c) throws IOException {
    Set<String> have = installed();
    if (have == null) {
      return Outcome.skip("no dpkg database (not a Debian system)");
    }
    List<String> names = Arrays.stream(c.get("name").split(",")).map(String::trim).toList();
    List<String> present = names.stream().filter(have::contains).toList();
    return switch (c.get("state")) {
      case "absent" ->
          present.isEmpty()
              ? Outcome.pass("not installed: " + String.join(", ", names))
              : Outcome.fail("installed: " + String.join(", ", present));
      case "present" ->
          present.size() == names.size()
              ? Outcome.pass("installed: " + String.join(", ", names))
              : Outcome.fail("not installed: " + String.join(", ", names));
      default ->
          present.isEmpty()
              ? Outcome.fail("none installed of " + String.join(", ", names))
              : Outcome.pass("installed: " + String.join(", ", present));
    };
  }

  private Outcome service(Map<String, String> c) throws IOException {
    String unit = c.get("unit");
    Path system = at("/etc/systemd/system");
    List<String> wants = new ArrayList<>();
    if (Files.isDirectory(system)) {
      try (Stream<Path> s = Files.list(system)) {
        for (Path d : s.filter(x -> x.getFileName().toString().endsWith(".wants")).toList()) {
          if (Files.exists(d.resolve(unit), LinkOption.NOFOLLOW_LINKS)) {
            wants.add(d.getFileName().toString());
          }
        }
      }
    }
    return wants.isEmpty()
        ? Outcome.pass(unit + " is not enabled")
        : Outcome.fail(unit + " is enabled (" + String.join(", ", wants) + ")");
  }

  /**
   * sshd's effective value of a keyword: the first one it reads, Include files in place, up to the
   * first Match block (as sshd does).
   */
  String sshdValue(String key) throws IOException {
    List<String> lines = new ArrayList<>();
    sshdLines(at("/etc/ssh/sshd_config"), lines, 0);
    for (String l : lines) {
      String[] kv = l.trim().split("[\\s=]+", 2);
      if (kv.length == 2 && kv[0].equalsIgnoreCase(key)) {
        return kv[1].trim();
      }
    }
    return null;
  }

  private void sshdLines(Path f, List<String> out, int depth) throws IOException {
    if (depth > 8 || !Files.exists(f)) {
      return;
    }
    for (String l : Files.readAllLines(f, StandardCharsets.UTF_8)) {
      String t = l.trim();
      if (t.isEmpty() || t.startsWith("#")) {
        continue;
      }
      String[] kv = t.split("\\s+", 2);
      if (kv[0].equalsIgnoreCase("Match")) {
        return;
      }
      if (kv[0].equalsIgnoreCase("Include") && kv.length == 2) {
        for (String pattern : kv[1].split("\\s+")) {
          for (Path inc : glob(pattern.startsWith("/") ? pattern : "/etc/ssh/" + pattern)) {
            sshdLines(inc, out, depth + 1);
          }
        }
        continue;
      }
      out.add(t);
    }
  }

  /** Files matching an absolute glob under root, sorted. */
  List<Path> glob(String pattern) throws IOException {
    Path p = at(pattern);
    Path dir = p.getParent();
    String name = p.getFileName().toString();
    if (!name.contains("*") && !name.contains("?")) {
      return Files.exists(p) ? List.of(p) : List.of();
    }
    if (dir == null || !Files.isDirectory(dir)) {
      return List.of();
    }
    PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + name);
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(x -> m.matches(x.getFileName())).sorted().toList();
    }
  }

  private Outcome sshd(Map<String, String> c) throws IOException {
    if (!Files.exists(at("/etc/ssh/sshd_config"))) {
      return Outcome.skip("no SSH daemon (/etc/ssh/sshd_config does not exist)");
    }
    String v = sshdValue(c.get("key"));
    String shown = v == null ? c.getOrDefault("default", "") + " (its default)" : v;
    String have = v == null ? c.getOrDefault("default", "") : v;
    return compare("sshd: " + c.get("key") + " " + shown, have, c.get("op"), c.get("value"));
  }

  /** The last active value of a key in a KEY VALUE (or KEY=VALUE) file. */
  String configValue(Path f, String key, boolean equals) throws IOException {
    String v = null;
    for (String l : Files.readAllLines(f, StandardCharsets.UTF_8)) {
      String t = l.trim();
      if (t.isEmpty() || t.startsWith("#") || t.startsWith(";") || t.startsWith("[")) {
        continue;
      }
      String[] kv = equals ? t.split("\\s*=\\s*", 2) : t.split("\\s+", 2);
      if (kv.length == 2 && kv[0].equals(key)) {
        v = kv[1].trim();
      }
    }
    return v;
  }

  private Outcome config(Map<String, String> c) throws IOException {
    Path f = at(c.get("path"));
    if (!Files.exists(f)) {
      return Outcome.skip(c.get("path") + " does not exist");
    }
    String v = configValue(f, c.get("key"), "equals".equals(c.get("syntax")));
    String have = v == null ? c.getOrDefault("default", "") : v;
    return compare(
        c.get("path") + ": " + c.get("key") + " " + (v == null ? have + " (its default)" : v),
        have,
        c.get("op"),
        c.get("value"));
  }

  private Outcome contains(Map<String, String> c) throws IOException {
    Pattern pattern = Pattern.compile(c.get("pattern"));
    boolean wantAbsent = "absent".equals(c.get("expect"));
    List<Path> files = new ArrayList<>();
    for (String g : c.get("path").split(",")) {
      files.addAll(glob(g.trim()));
    }
    if (files.isEmpty()) {
      return wantAbsent
          ? Outcome.pass("no file of " + c.get("path"))
          : Outcome.skip(c.get("path") + " does not exist");
    }
    for (Path f : files) {
      int n = 0;
      for (String l : Files.readAllLines(f, StandardCharsets.UTF_8)) {
        n++;
        if (!l.trim().startsWith("#") && pattern.matcher(l).find()) {
          String where = "/" + root.relativize(f) + ":" + n + ": " + l.trim();
          return wantAbsent ? Outcome.fail(where) : Outcome.pass(where);
        }
      }
    }
    return wantAbsent
        ? Outcome.pass("no line matches in " + c.get("path"))
        : Outcome.fail("no line of " + c.get("path") + " matches " + c.get("pattern"));
  }

  /** Whether a process of one of the names runs (its /proc/PID/comm). */
  private Outcome process(Map<String, String> c) throws IOException {
    Path proc = at("/proc");
    if (!Files.isDirectory(proc)) {
      return Outcome.skip("no /proc");
    }
    Set<String> names = new LinkedHashSet<>(Arrays.asList(c.get("name").split(",")));
    try (Stream<Path> s = Files.list(proc)) {
      for (Path p :
          s.filter(x -> x.getFileName().toString().chars().allMatch(Character::isDigit)).toList()) {
        Path comm = p.resolve("comm");
        String name;
        try {
          name = Files.readString(comm).strip();
        } catch (IOException gone) {
          continue;
        }
        if (names.contains(name)) {
          return Outcome.pass(name + " runs (pid " + p.getFileName() + ")");
        }
      }
    }
    return Outcome.fail("none of " + String.join(", ", names) + " runs");
  }

  private Outcome accounts(Map<String, String> c) throws IOException {
    Path passwd = at("/etc/passwd");
    if (!Files.exists(passwd)) {
      return Outcome.skip("/etc/passwd does not exist");
    }
    List<String[]> users =
        Files.readAllLines(passwd).stream()
            .filter(l -> !l.isBlank() && !l.startsWith("#"))
            .map(l -> l.split(":", -1))
            .filter(f -> f.length >= 7)
            .toList();
    switch (c.get("rule")) {
      case "uid0-only-root" -> {
        List<String> zero =
            users.stream()
                .filter(u -> u[2].equals("0") && !u[0].equals("root"))
                .map(u -> u[0])
                .toList();
        return zero.isEmpty()
            ? Outcome.pass("only root has UID 0")
            : Outcome.fail("UID 0 besides root: " + String.join(", ", zero));
      }
      case "no-empty-password" -> {
        Path shadow = at("/etc/shadow");
        if (!Files.exists(shadow)) {
          return Outcome.skip("/etc/shadow does not exist");
        }
        List<String> empty =
            Files.readAllLines(shadow).stream()
                .map(l -> l.split(":", -1))
                .filter(f -> f.length >= 2 && f[1].isEmpty())
                .map(f -> f[0])
                .toList();
        return empty.isEmpty()
            ? Outcome.pass("every account has a password or is locked")
            : Outcome.fail("empty password: " + String.join(", ", empty));
      }
      case "unique-uids" -> {
        Map<String, List<String>> byUid = new LinkedHashMap<>();
        users.forEach(u -> byUid.computeIfAbsent(u[2], k -> new ArrayList<>()).add(u[0]));
        List<String> dup =
            byUid.entrySet().stream()
                .filter(e -> e.getValue().size() > 1)
                .map(e -> e.getKey() + " (" + String.join(", ", e.getValue()) + ")")
                .toList();
        return dup.isEmpty()
            ? Outcome.pass(users.size() + " accounts, each with its own UID")
            : Outcome.fail("shared UIDs: " + String.join("; ", dup));
      }
      case "groups-exist" -> {
        Path group = at("/etc/group");
        if (!Files.exists(group)) {
          return Outcome.skip("/etc/group does not exist");
        }
        Set<String> gids = new LinkedHashSet<>();
        Files.readAllLines(group).stream()
            .map(l -> l.split(":", -1))
            .filter(f -> f.length >= 3)
            .forEach(f -> gids.add(f[2]));
        List<String> missing =
            users.stream()
                .filter(u -> !gids.contains(u[3]))
                .map(u -> u[0] + " (gid " + u[3] + ")")
                .toList();
        return missing.isEmpty()
            ? Outcome.pass("every primary group exists")
            : Outcome.fail("primary group missing: " + String.join(", ", missing));
      }
      default -> {
        return new Outcome("error", "unknown accounts rule " + c.get("rule"));
      }
    }
  }

  private Outcome pilothouse(Map<String, String> c, Context ctx) throws IOException {
    if (ctx.stateDir() == null) {
      return Outcome.skip("not run by a daemon: its setup is not known");
    }
    switch (c.get("rule")) {
      case "state-dir-mode" -> {
        int m = mode(ctx.stateDir());
        return (m & 0077) == 0
            ? Outcome.pass(ctx.stateDir() + " is " + octal(m))
            : Outcome.fail(
                ctx.stateDir() + " is " + octal(m) + "; group and others must have no access");
      }
      case "api-exposure" -> {
        String host = URI.create(ctx.apiUrl()).getHost();
        boolean loop =
            InetAddress.getByName(host.replace("[", "").replace("]", "")).isLoopbackAddress();
        return loop || ctx.tls()
            ? Outcome.pass("the API is " + ctx.apiUrl())
            : Outcome.fail("the API is " + ctx.apiUrl() + ", beyond loopback without TLS");
      }
      case "api-tls" -> {
        return ctx.tls()
            ? Outcome.pass("the API is " + ctx.apiUrl())
            : Outcome.fail("the API is " + ctx.apiUrl() + " (plain HTTP)");
      }
      case "token-age" -> {
        Instant now = clock.instant();
        List<String> old =
            ctx.tokens().stream()
                .filter(t -> t.validAt(now) && t.expires() == null)
                .filter(t -> t.created().isBefore(now.minus(TOKEN_AGE)))
                .map(t -> t.name() + " (made " + t.created() + ")")
                .toList();
        return old.isEmpty()
            ? Outcome.pass(ctx.tokens().size() + " tokens; none old and without an expiry")
            : Outcome.fail("older than 90 days without an expiry: " + String.join(", ", old));
      }
      case "secrets-key-mode" -> {
        Path key = ctx.stateDir().resolve("secrets").resolve(SecretBox.KEY_FILE);
        if (!Files.exists(key)) {
          return Outcome.pass("no key file (the key comes from a passphrase, or no secret is set)");
        }
        int m = mode(key);
        return (m & 0077) == 0
            ? Outcome.pass(key + " is " + octal(m))
            : Outcome.fail(key + " is " + octal(m) + "; only its owner may read it");
      }
      default -> {
        return new Outcome("error", "unknown pilothouse rule " + c.get("rule"));
      }
    }
  }

  private static String fixText(AuditRules.Rule r) {
    Map<String, String> c = r.check();
    Map<String, String> f = r.fix();
    if (f.isEmpty()) {
      return r.manual();
    }
    String value = f.getOrDefault("value", c.get("value"));
    return switch (f.get("type")) {
      case "chmod" -> "chmod " + f.get("mode") + " " + c.get("path");
      case "sysctl" ->
          "set "
              + c.get("key")
              + " = "
              + value
              + " (now, and in /etc/sysctl.d/"
              + SYSCTL_FILE
              + ")";
      case "sshd" ->
          "set '" + c.get("key") + " " + value + "' first in /etc/ssh/sshd_config, then reload ssh";
      default ->
          "set "
              + c.get("key")
              + ("equals".equals(c.get("syntax")) ? "=" : " ")
              + value
              + " in "
              + c.get("path");
    };
  }

  static final String SYSCTL_FILE = "60-pilothouse-hardening.conf";

  private List<Change> apply(AuditRules.Rule r, boolean dryRun, Path backups, Map<Path, Path> saved)
      throws IOException {
    Map<String, String> c = r.check();
    Map<String, String> f = r.fix();
    String value = f.getOrDefault("value", c.get("value"));
    List<Change> out = new ArrayList<>();
    switch (f.get("type")) {
      case "chmod" -> {
        Path p = at(c.get("path"));
        String action = "chmod " + octal(mode(p)) + " -> " + f.get("mode");
        if (!dryRun) {
          Files.setPosixFilePermissions(p, permissions(Integer.parseInt(f.get("mode"), 8)));
        }
        out.add(
            new Change(
                r.id(), c.get("path"), action, null)); // a mode: the change says how to undo it
      }
      case "sysctl" -> {
        String key = c.get("key");
        Path conf = at("/etc/sysctl.d/" + SYSCTL_FILE);
        out.add(
            new Change(
                r.id(),
                "/etc/sysctl.d/" + SYSCTL_FILE,
                "set " + key + " = " + value,
                dryRun
                    ? null
                    : edit(conf, key, key + " = " + value, "\\s*=.*", false, backups, saved)));
        Path live = at("/proc/sys/" + key.replace('.', '/'));
        if (!dryRun) {
          Files.writeString(live, value + "\n");
        }
        out.add(new Change(r.id(), "/proc/sys/" + key.replace('.', '/'), "write " + value, null));
      }
      case "sshd" -> {
        Path conf = at("/etc/ssh/sshd_config");
        out.add(
            new Change(
                r.id(),
                "/etc/ssh/sshd_config",
                "set '" + c.get("key") + " " + value + "' first (reload ssh to apply)",
                dryRun
                    ? null
                    : edit(
                        conf,
                        c.get("key"),
                        c.get("key") + " " + value,
                        "\\s.*",
                        true,
                        backups,
                        saved)));
      }
      default -> {
        Path conf = at(c.get("path"));
        boolean eq = "equals".equals(c.get("syntax"));
        String line = c.get("key") + (eq ? "=" : " ") + value;
        out.add(
            new Change(
                r.id(),
                c.get("path"),
                "set " + line,
                dryRun
                    ? null
                    : edit(
                        conf,
                        c.get("key"),
                        line,
                        eq ? "\\s*=.*" : "\\s.*",
                        false,
                        backups,
                        saved)));
      }
    }
    return out;
  }

  /**
   * Comments out the file's active lines of key and writes line (first, or last); the file is
   * backed up before its first change; returns where the backup is (null: the file is new).
   */
  private String edit(
      Path file,
      String key,
      String line,
      String rest,
      boolean first,
      Path backups,
      Map<Path, Path> saved)
      throws IOException {
    Path backup = saved.get(file);
    boolean existed = Files.exists(file);
    if (existed && backup == null) {
      backup = backups.resolve(root.relativize(file).toString());
      Files.createDirectories(
          backup.getParent(),
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      Files.copy(
          file, backup, StandardCopyOption.COPY_ATTRIBUTES, StandardCopyOption.REPLACE_EXISTING);
      saved.put(file, backup);
    }
    List<String> lines = existed ? new ArrayList<>(Files.readAllLines(file)) : new ArrayList<>();
    Pattern active =
        Pattern.compile("^\\s*" + Pattern.quote(key) + rest + "$", Pattern.CASE_INSENSITIVE);
    for (int i = 0; i < lines.size(); i++) {
      if (active.matcher(lines.get(i)).matches()) {
        lines.set(i, "# " + lines.get(i) + "  # replaced by pilothouse audit host --fix");
      }
    }
    // a comment line of its own: sshd_config and login.defs know no comments after a value
    List<String> mine = List.of("# set by pilothouse audit host --fix", line);
    if (first) {
      lines.addAll(0, mine);
    } else {
      lines.addAll(mine);
    }
    Path tmp = file.resolveSibling(file.getFileName() + ".pilothouse-tmp");
    Files.createDirectories(file.getParent());
    Files.write(tmp, lines, StandardCharsets.UTF_8);
    if (existed) {
      Files.setPosixFilePermissions(tmp, Files.getPosixFilePermissions(file));
    } else {
      Files.setPosixFilePermissions(tmp, permissions(0644));
    }
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    return backup == null ? null : backup.toString();
  }

  static Set<PosixFilePermission> permissions(int mode) {
    Set<PosixFilePermission> s = java.util.EnumSet.noneOf(PosixFilePermission.class);
    for (PosixFilePermission p : PosixFilePermission.values()) {
      if ((mode & (1 << (8 - p.ordinal()))) != 0) {
        s.add(p);
      }
    }
    return s;
  }
}
