package dev.pilothouse.security;

import dev.pilothouse.core.spec.ServiceSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Scans what runs: a service's jars, or the host's Debian packages, against the offline OSV
 * database in STATE_DIR/osv (updated with {@code pilothouse scan --update}).
 */
public final class Scanner {
  /** One scanned thing: its components and their findings. */
  public record Target(
      String name,
      String kind,
      List<Sbom.Component> components,
      List<Vulnerabilities.Finding> findings) {}

  private final Path database;
  private final Path root;

  /** A scanner over the database in dir, for the system under root ("/" on a host). */
  public Scanner(Path database, Path root) {
    this.database = database;
    this.root = root;
  }

  /** Imports OSV records from a directory or zip. */
  public Vulnerabilities.Imported update(Path from) throws IOException {
    return Vulnerabilities.importFrom(from, database);
  }

  public Vulnerabilities database() throws IOException {
    return Vulnerabilities.load(database, debianRelease());
  }

  public Target service(ServiceSpec s, Vulnerabilities db) throws IOException {
    List<Sbom.Component> c =
        Sbom.fromJars(
            Sbom.jarsOf(s.command(), s.args(), Path.of(s.workdir()), s.deploy().artifact()));
    return new Target(s.name(), "service", c, db.match(c));
  }

  public Target host(Vulnerabilities db) throws IOException {
    List<Sbom.Component> c = Sbom.fromDpkg(root);
    return new Target("host", "host", c, db.match(c));
  }

  /** The findings of a target at or above a severity. */
  public static List<Vulnerabilities.Finding> atLeast(Target t, String severity) {
    List<Vulnerabilities.Finding> out = new ArrayList<>();
    for (Vulnerabilities.Finding f : t.findings()) {
      if (Vulnerabilities.atLeast(f.severity(), severity)) {
        out.add(f);
      }
    }
    return out;
  }

  /** The deploy gate's verdict on a service's next version. */
  public record Verdict(boolean passed, String message) {}

  /**
   * The deploy gate ({@code deploy.scan.blockOn}): whether next's artifacts are free of known
   * vulnerabilities at or above that severity; the refusal names each (at most five) and the
   * version that fixes it. Null when the service declares no gate.
   */
  public Verdict check(ServiceSpec next) {
    String blockOn = next.deploy().scanBlockOn();
    if (blockOn == null) {
      return null;
    }
    Target t;
    try {
      t = service(next, database());
    } catch (IOException e) {
      return new Verdict(false, "cannot scan: " + e.getMessage());
    }
    List<Vulnerabilities.Finding> bad = atLeast(t, blockOn);
    if (bad.isEmpty()) {
      return new Verdict(
          true,
          "no known vulnerability at or above "
              + blockOn
              + " in "
              + t.components().size()
              + " components");
    }
    List<String> named = new ArrayList<>();
    for (Vulnerabilities.Finding f : bad.subList(0, Math.min(bad.size(), 5))) {
      named.add(
          f.id()
              + (f.aliases().isEmpty() ? "" : " (" + String.join(", ", f.aliases()) + ")")
              + " "
              + f.severity()
              + " in "
              + f.component().name()
              + " "
              + f.component().version()
              + (f.fixed() == null || f.fixed().isEmpty()
                  ? ", no fixed version yet"
                  : ", fixed in " + f.fixed()));
    }
    return new Verdict(
        false,
        bad.size()
            + " known vulnerabilities at or above "
            + blockOn
            + ": "
            + String.join("; ", named)
            + "; upgrade them, or lower deploy.scan.blockOn");
  }

  /** The Debian release under root (VERSION_ID of os-release), or null. */
  String debianRelease() throws IOException {
    Path os = root.resolve("etc/os-release");
    if (!Files.exists(os)) {
      return null;
    }
    for (String l : Files.readAllLines(os)) {
      if (l.startsWith("VERSION_ID=")) {
        return l.substring(11).replace("\"", "").trim();
      }
    }
    return null;
  }
}
