package dev.pilothouse.security;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.apache.maven.artifact.versioning.ComparableVersion;

/**
 * An offline OSV database (STATE_DIR/osv/ECOSYSTEM/ID.json, imported from OSV's exports: a
 * directory of records or a zip such as osv.dev's ECOSYSTEM/all.zip) and the matching of components
 * against it, with each ecosystem's own version ordering: Maven's (ComparableVersion, as Maven
 * resolves) and dpkg's.
 */
public final class Vulnerabilities {
  /** A component with a known vulnerability, and the least version that fixes it. */
  public record Finding(
      Sbom.Component component,
      String id,
      List<String> aliases,
      String severity,
      String summary,
      String fixed) {}

  /** What an import did. */
  public record Imported(int records, Map<String, Integer> byEcosystem, int skipped) {}

  static final List<String> SEVERITIES = List.of("critical", "high", "medium", "low", "unknown");
  static final long MAX_RECORD_BYTES = 4L << 20;
  static final int MAX_RECORDS = 2_000_000;

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Map<String, List<JsonNode>> byPackage = new HashMap<>();
  private final String debianRelease;
  private final int records;

  private Vulnerabilities(String debianRelease, int records) {
    this.debianRelease = debianRelease;
    this.records = records;
  }

  /** The database in dir (empty when there is none yet), for a host of this Debian release. */
  public static Vulnerabilities load(Path dir, String debianRelease) throws IOException {
    List<Path> files = new ArrayList<>();
    if (Files.isDirectory(dir)) {
      try (Stream<Path> s = Files.walk(dir, 2)) {
        s.filter(p -> p.toString().endsWith(".json")).forEach(files::add);
      }
    }
    Vulnerabilities v = new Vulnerabilities(debianRelease, files.size());
    for (Path f : files) {
      JsonNode n = JSON.readTree(f.toFile());
      java.util.Set<String> keys = new java.util.HashSet<>();
      for (JsonNode a : n.path("affected")) {
        keys.add(
            key(
                a.path("package").path("ecosystem").asText(),
                a.path("package").path("name").asText()));
      }
      for (String k : keys) { // once per package, however many ranges name it
        v.byPackage.computeIfAbsent(k, x -> new ArrayList<>()).add(n);
      }
    }
    return v;
  }

  public int records() {
    return records;
  }

  private static String key(String ecosystem, String name) {
    String eco =
        ecosystem.contains(":") ? ecosystem.substring(0, ecosystem.indexOf(':')) : ecosystem;
    return eco.toLowerCase(Locale.ROOT) + "/" + name;
  }

  /**
   * Copies the OSV records of a directory or zip into dir (by ecosystem), replacing records of the
   * same id; files that are not OSV records are counted and skipped.
   */
  public static Imported importFrom(Path from, Path dir) throws IOException {
    Map<String, Integer> by = new LinkedHashMap<>();
    int[] skipped = {0};
    int[] n = {0};
    if (Files.isDirectory(from)) {
      try (Stream<Path> s = Files.walk(from)) {
        for (Path f : s.filter(p -> p.toString().endsWith(".json")).toList()) {
          if (Files.size(f) > MAX_RECORD_BYTES) {
            skipped[0]++;
            continue;
          }
          keep(Files.readAllBytes(f), dir, by, skipped, n);
        }
      }
    } else if (Files.isRegularFile(from)) {
      try (InputStream in = Files.newInputStream(from);
          ZipInputStream zip = new ZipInputStream(in)) {
        ZipEntry e;
        while ((e = zip.getNextEntry()) != null && n[0] < MAX_RECORDS) {
          if (!e.getName().endsWith(".json")) {
            continue;
          }
          byte[] b = zip.readNBytes((int) MAX_RECORD_BYTES + 1);
          if (b.length > MAX_RECORD_BYTES) {
            skipped[0]++;
            continue;
          }
          keep(b, dir, by, skipped, n);
        }
      } catch (java.util.zip.ZipException e) {
        throw new IOException(from + " is neither a directory nor a zip of OSV records");
      }
    } else {
      throw new IOException(from + " does not exist");
    }
    return new Imported(n[0], by, skipped[0]);
  }

  private static void keep(byte[] bytes, Path dir, Map<String, Integer> by, int[] skipped, int[] n)
      throws IOException {
    JsonNode r;
    try {
      r = JSON.readTree(bytes);
    } catch (IOException e) {
      skipped[0]++;
      return;
    }
    String id = r.path("id").asText("");
    JsonNode affected = r.path("affected");
    if (!id.matches("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
        || !affected.isArray()
        || affected.isEmpty()) {
      skipped[0]++;
      return;
    }
    String eco = affected.get(0).path("package").path("ecosystem").asText("unknown");
    String ecoDir = eco.contains(":") ? eco.substring(0, eco.indexOf(':')) : eco;
    if (!ecoDir.matches("[A-Za-z0-9._-]{1,64}")) {
      skipped[0]++;
      return;
    }
    Path d = dir.resolve(ecoDir);
    Files.createDirectories(d);
    Path tmp = d.resolve(id.replace(':', '_') + ".json.tmp");
    Files.write(tmp, bytes);
    Files.move(
        tmp,
        d.resolve(id.replace(':', '_') + ".json"),
        StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
    by.merge(ecoDir, 1, Integer::sum);
    n[0]++;
  }

  /** Every known vulnerability of the components. */
  public List<Finding> match(List<Sbom.Component> components) {
    List<Finding> out = new ArrayList<>();
    for (Sbom.Component c : components) {
      for (JsonNode r : byPackage.getOrDefault(key(c.ecosystem(), c.name()), List.of())) {
        String fixed = null;
        boolean hit = false;
        for (JsonNode a : r.path("affected")) {
          String eco = a.path("package").path("ecosystem").asText();
          if (!key(eco, a.path("package").path("name").asText())
              .equals(key(c.ecosystem(), c.name()))) {
            continue;
          }
          if (eco.startsWith("Debian:")
              && debianRelease != null
              && !eco.substring(7).equals(debianRelease)) {
            continue; // another release's record
          }
          for (JsonNode v : a.path("versions")) {
            if (v.asText().equals(c.version())) {
              hit = true;
            }
          }
          for (JsonNode range : a.path("ranges")) {
            if (range.path("type").asText().equals("GIT")) {
              continue;
            }
            String f = affected(c, range.path("events"));
            if (f != null) {
              hit = true;
              if (!f.isEmpty() && (fixed == null || compare(c, f, fixed) < 0)) {
                fixed = f;
              }
            }
          }
        }
        if (hit) {
          List<String> aliases = new ArrayList<>();
          r.path("aliases").forEach(x -> aliases.add(x.asText()));
          out.add(
              new Finding(
                  c,
                  r.path("id").asText(),
                  aliases,
                  severity(r),
                  r.path("summary").asText(""),
                  fixed));
        }
      }
    }
    out.sort(
        Comparator.comparing((Finding f) -> SEVERITIES.indexOf(f.severity()))
            .thenComparing(f -> f.component().name())
            .thenComparing(Finding::id));
    return out;
  }

  /**
   * Whether the component's version is in a range: null when not; else the version that fixes it
   * ("" when none does yet).
   */
  private static String affected(Sbom.Component c, JsonNode events) {
    String v = c.version();
    boolean in = false;
    String fix = "";
    List<JsonNode> sorted = new ArrayList<>();
    events.forEach(sorted::add);
    sorted.sort(Comparator.comparing(e -> eventVersion(e), (x, y) -> compare(c, x, y)));
    for (JsonNode e : sorted) {
      if (e.has("introduced")) {
        String i = e.path("introduced").asText();
        if (i.equals("0") || compare(c, v, i) >= 0) {
          in = true;
          fix = "";
        }
      } else if (e.has("fixed")) {
        if (compare(c, v, e.path("fixed").asText()) >= 0) {
          in = false;
        } else if (in && fix.isEmpty()) {
          fix = e.path("fixed").asText();
          return fix;
        }
      } else if (e.has("last_affected")) {
        if (compare(c, v, e.path("last_affected").asText()) > 0) {
          in = false;
        }
      } else if (e.has("limit")) {
        if (compare(c, v, e.path("limit").asText()) >= 0) {
          in = false;
        }
      }
    }
    return in ? fix : null;
  }

  private static String eventVersion(JsonNode e) {
    for (String k : List.of("introduced", "fixed", "last_affected", "limit")) {
      if (e.has(k)) {
        return e.path(k).asText();
      }
    }
    return "0";
  }

  /** The ecosystem's ordering ("0" is below everything). */
  static int compare(Sbom.Component c, String a, String b) {
    if (a.equals(b)) {
      return 0;
    }
    if (a.equals("0")) {
      return -1;
    }
    if (b.equals("0")) {
      return 1;
    }
    return c.ecosystem().equals("Debian")
        ? DebianVersion.compare(a, b)
        : new ComparableVersion(a).compareTo(new ComparableVersion(b));
  }

  /** critical, high, medium, low or unknown: GitHub's rating, else the CVSS base score's band. */
  static String severity(JsonNode r) {
    String s = r.path("database_specific").path("severity").asText("").toLowerCase(Locale.ROOT);
    if (s.equals("moderate")) {
      return "medium";
    }
    if (SEVERITIES.contains(s)) {
      return s;
    }
    return "unknown";
  }

  /** Whether severity s is at least threshold (critical > high > medium > low). */
  public static boolean atLeast(String s, String threshold) {
    int i = SEVERITIES.indexOf(s);
    int t = SEVERITIES.indexOf(threshold);
    return i >= 0 && t >= 0 && i <= t && !s.equals("unknown");
  }
}
