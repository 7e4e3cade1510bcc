package dev.pilothouse.security;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * What an artifact is made of: Maven artifacts found in jars (each {@code
 * META-INF/maven/GROUP/ARTIFACT/pom.properties}, so shaded jars list every artifact they hold, and
 * jars nested one level deep, as Spring Boot's) and Debian packages from dpkg's status file; and
 * the CycloneDX 1.5 JSON of them.
 */
public final class Sbom {
  private Sbom() {}

  /**
   * One component.
   *
   * @param ecosystem Maven or Debian
   * @param name group:artifact for Maven; the source package's name for Debian (what OSV names)
   * @param source the file it was found in, or the binary package
   */
  public record Component(
      String ecosystem, String name, String version, String purl, String source) {}

  static final long MAX_JAR_BYTES = 512L << 20;
  static final long MAX_NESTED_BYTES = 64L << 20;
  static final int MAX_ENTRIES = 200_000;

  /** The Maven artifacts in these jar files (missing files are skipped). */
  public static List<Component> fromJars(List<Path> jars) throws IOException {
    Map<String, Component> out = new LinkedHashMap<>();
    for (Path jar : jars) {
      if (!Files.isRegularFile(jar) || Files.size(jar) > MAX_JAR_BYTES) {
        continue;
      }
      try (InputStream in = Files.newInputStream(jar)) {
        read(in, jar.toString(), out, 0);
      }
    }
    return List.copyOf(out.values());
  }

  private static void read(InputStream in, String where, Map<String, Component> out, int depth)
      throws IOException {
    ZipInputStream zip = new ZipInputStream(in);
    ZipEntry e;
    int n = 0;
    while ((e = zip.getNextEntry()) != null && n++ < MAX_ENTRIES) {
      String name = e.getName();
      if (name.startsWith("META-INF/maven/") && name.endsWith("/pom.properties")) {
        Properties p = new Properties();
        p.load(new ByteArrayInputStream(zip.readNBytes(64 * 1024)));
        String g = p.getProperty("groupId");
        String a = p.getProperty("artifactId");
        String v = p.getProperty("version");
        if (g != null && a != null && v != null) {
          out.putIfAbsent(
              g + ":" + a + "@" + v,
              new Component("Maven", g + ":" + a, v, "pkg:maven/" + g + "/" + a + "@" + v, where));
        }
      } else if (depth == 0 && (name.endsWith(".jar") || name.endsWith(".war"))) {
        byte[] nested = zip.readNBytes((int) MAX_NESTED_BYTES);
        try {
          read(new ByteArrayInputStream(nested), where + "!/" + name, out, depth + 1);
        } catch (IOException damaged) {
          // not a zip after all
        }
      }
    }
  }

  /** The installed Debian packages under root (its dpkg status file), by source package. */
  public static List<Component> fromDpkg(Path root) throws IOException {
    Path status = root.resolve("var/lib/dpkg/status");
    if (!Files.exists(status)) {
      return List.of();
    }
    List<Component> out = new ArrayList<>();
    String pkg = null;
    String version = null;
    String source = null;
    boolean installed = false;
    String arch = "";
    List<String> lines = new ArrayList<>(Files.readAllLines(status, StandardCharsets.UTF_8));
    lines.add("");
    for (String l : lines) {
      if (l.isEmpty()) {
        if (pkg != null && version != null && installed) {
          String src = source == null ? pkg : source.split("\\s+")[0];
          String srcVersion =
              source != null && source.contains("(")
                  ? source.substring(source.indexOf('(') + 1, source.indexOf(')'))
                  : version;
          out.add(
              new Component(
                  "Debian",
                  src,
                  srcVersion,
                  "pkg:deb/debian/" + pkg + "@" + version + (arch.isEmpty() ? "" : "?arch=" + arch),
                  pkg));
        }
        pkg = null;
        version = null;
        source = null;
        installed = false;
        arch = "";
      } else if (l.startsWith("Package: ")) {
        pkg = l.substring(9).trim();
      } else if (l.startsWith("Version: ")) {
        version = l.substring(9).trim();
      } else if (l.startsWith("Source: ")) {
        source = l.substring(8).trim();
      } else if (l.startsWith("Architecture: ")) {
        arch = l.substring(14).trim();
      } else if (l.startsWith("Status: ")) {
        installed = l.endsWith(" installed");
      }
    }
    return out;
  }

  /**
   * The jar files a service runs: its deploy artifact, jars named in its command and arguments, and
   * the entries of a -cp/-classpath/--class-path (a trailing '*' is every jar of that directory).
   */
  public static List<Path> jarsOf(String command, List<String> args, Path workdir, String artifact)
      throws IOException {
    Set<Path> out = new LinkedHashSet<>();
    if (artifact != null && !artifact.isEmpty()) {
      out.add(workdir.resolve(artifact));
    }
    List<String> all = new ArrayList<>();
    all.add(command);
    all.addAll(args);
    for (int i = 0; i < all.size(); i++) {
      String a = all.get(i);
      if ((a.equals("-cp") || a.equals("-classpath") || a.equals("--class-path"))
          && i + 1 < all.size()) {
        for (String entry : all.get(i + 1).split(":")) {
          if (entry.endsWith("*")) {
            Path dir = workdir.resolve(entry.substring(0, entry.length() - 1));
            if (Files.isDirectory(dir)) {
              try (var s = Files.list(dir)) {
                s.filter(p -> p.toString().endsWith(".jar")).sorted().forEach(out::add);
              }
            }
          } else if (entry.endsWith(".jar") || entry.endsWith(".war")) {
            out.add(workdir.resolve(entry));
          }
        }
        i++;
      } else if (a.endsWith(".jar") || a.endsWith(".war")) {
        out.add(workdir.resolve(a));
      }
    }
    return List.copyOf(out);
  }

  /** CycloneDX 1.5 JSON (as a map for Jackson) of components, with findings as vulnerabilities. */
  public static Map<String, Object> cyclonedx(
      String subject, List<Component> components, List<Vulnerabilities.Finding> findings) {
    Map<String, Object> bom = new LinkedHashMap<>();
    bom.put("bomFormat", "CycloneDX");
    bom.put("specVersion", "1.5");
    bom.put("serialNumber", "urn:uuid:" + java.util.UUID.randomUUID());
    bom.put("version", 1);
    bom.put(
        "metadata",
        Map.of(
            "timestamp", Instant.now().toString(),
            "tools",
                Map.of("components", List.of(Map.of("type", "application", "name", "pilothouse"))),
            "component", Map.of("type", "application", "name", subject, "bom-ref", subject)));
    List<Map<String, Object>> comps = new ArrayList<>();
    for (Component c : components) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("type", "library");
      m.put("bom-ref", c.purl());
      if (c.ecosystem().equals("Maven")) {
        m.put("group", c.name().substring(0, c.name().indexOf(':')));
        m.put("name", c.name().substring(c.name().indexOf(':') + 1));
      } else {
        m.put("name", c.source());
      }
      m.put(
          "version",
          c.ecosystem().equals("Maven") ? c.version() : c.purl().replaceAll(".*@|\\?.*", ""));
      m.put("purl", c.purl());
      comps.add(m);
    }
    bom.put("components", comps);
    List<Map<String, Object>> vulns = new ArrayList<>();
    for (Vulnerabilities.Finding f : findings) {
      Map<String, Object> v = new LinkedHashMap<>();
      v.put("bom-ref", f.id() + "/" + f.component().purl());
      v.put("id", f.id());
      v.put("source", Map.of("name", "OSV", "url", "https://osv.dev/vulnerability/" + f.id()));
      v.put(
          "ratings", List.of(Map.of("severity", f.severity().toLowerCase(java.util.Locale.ROOT))));
      v.put("description", f.summary());
      if (f.fixed() != null) {
        v.put("recommendation", "upgrade " + f.component().name() + " to " + f.fixed());
      }
      v.put("affects", List.of(Map.of("ref", f.component().purl())));
      vulns.add(v);
    }
    bom.put("vulnerabilities", vulns);
    return bom;
  }
}
