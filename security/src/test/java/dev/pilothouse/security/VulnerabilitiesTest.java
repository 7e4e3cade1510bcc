package dev.pilothouse.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SBOMs of real jar files and a dpkg database, matched against real OSV records (GitHub's advisory
 * database; see src/test/resources/osv/README.md), with each ecosystem's version ordering checked
 * against its reference: dpkg itself for Debian.
 */
class VulnerabilitiesTest {
  @TempDir Path tmp;

  static Path fixtures() throws Exception {
    return Path.of(VulnerabilitiesTest.class.getResource("/osv/README.md").toURI()).getParent();
  }

  static byte[] pomProperties(String g, String a, String v) {
    return ("groupId=" + g + "\nartifactId=" + a + "\nversion=" + v + "\n")
        .getBytes(StandardCharsets.ISO_8859_1);
  }

  static void entry(ZipOutputStream z, String name, byte[] b) throws Exception {
    z.putNextEntry(new ZipEntry(name));
    z.write(b);
    z.closeEntry();
  }

  /** A shaded jar holding log4j-core and commons-text, and a nested (Spring Boot style) jar. */
  static Path jar(Path dir, String log4j, String text) throws Exception {
    ByteArrayOutputStream nested = new ByteArrayOutputStream();
    try (ZipOutputStream z = new ZipOutputStream(nested)) {
      entry(
          z,
          "META-INF/maven/org.apache.commons/commons-text/pom.properties",
          pomProperties("org.apache.commons", "commons-text", text));
    }
    Path jar = dir.resolve("app.jar");
    try (OutputStream out = Files.newOutputStream(jar);
        ZipOutputStream z = new ZipOutputStream(out)) {
      entry(
          z, "META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n".getBytes(StandardCharsets.US_ASCII));
      entry(
          z,
          "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties",
          pomProperties("org.apache.logging.log4j", "log4j-core", log4j));
      entry(
          z,
          "META-INF/maven/com.example/app/pom.properties",
          pomProperties("com.example", "app", "1.0"));
      entry(z, "BOOT-INF/lib/commons-text.jar", nested.toByteArray());
    }
    return jar;
  }

  Vulnerabilities db() throws Exception {
    Path dir = tmp.resolve("osv");
    Vulnerabilities.Imported i = Vulnerabilities.importFrom(fixtures(), dir);
    assertThat(i.records()).isEqualTo(3);
    assertThat(i.byEcosystem()).containsEntry("Maven", 2).containsEntry("Debian", 1);
    return Vulnerabilities.load(dir, "12");
  }

  @Test
  void log4shellAndText4shell_areFoundInAShadedJar_withTheVersionThatFixesThem() throws Exception {
    List<Sbom.Component> sbom = Sbom.fromJars(List.of(jar(tmp, "2.14.1", "1.9")));
    assertThat(sbom)
        .extracting(Sbom.Component::name, Sbom.Component::version)
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple("org.apache.logging.log4j:log4j-core", "2.14.1"),
            org.assertj.core.groups.Tuple.tuple("com.example:app", "1.0"),
            org.assertj.core.groups.Tuple.tuple("org.apache.commons:commons-text", "1.9"));
    assertThat(
            sbom.stream()
                .filter(c -> c.name().endsWith("commons-text"))
                .findFirst()
                .orElseThrow()
                .source())
        .endsWith("app.jar!/BOOT-INF/lib/commons-text.jar");

    List<Vulnerabilities.Finding> found = db().match(sbom);
    assertThat(found)
        .extracting(
            Vulnerabilities.Finding::id,
            Vulnerabilities.Finding::severity,
            Vulnerabilities.Finding::fixed)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("GHSA-599f-7c49-w659", "critical", "1.10.0"),
            org.assertj.core.groups.Tuple.tuple("GHSA-jfh8-c2jp-5v3q", "critical", "2.15.0"));
    assertThat(found.get(1).aliases()).containsExactly("CVE-2021-44228");

    Map<String, Object> bom = Sbom.cyclonedx("app", sbom, found);
    assertThat(bom).containsEntry("bomFormat", "CycloneDX").containsEntry("specVersion", "1.5");
    assertThat(bom.get("components").toString())
        .contains("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1");
    assertThat(bom.get("vulnerabilities").toString())
        .contains("upgrade org.apache.logging.log4j:log4j-core to 2.15.0");
  }

  @Test
  void mavenRanges_followMavensVersionOrder() throws Exception {
    Vulnerabilities db = db();
    Map<String, String> log4j =
        Map.ofEntries(
            Map.entry("2.0-beta9", "2.3.1"), // below 2.3.1: the oldest range
            Map.entry("2.3", "2.3.1"),
            Map.entry("2.3.1", ""), // fixed
            Map.entry("2.4", "2.12.2"),
            Map.entry("2.12.1", "2.12.2"),
            Map.entry("2.12.2", ""),
            Map.entry("2.13.0", "2.15.0"),
            Map.entry("2.14.1", "2.15.0"),
            Map.entry("2.15.0", ""),
            Map.entry("2.17.1", ""));
    for (var e : log4j.entrySet()) {
      List<Vulnerabilities.Finding> f =
          db.match(
              List.of(
                  new Sbom.Component(
                      "Maven", "org.apache.logging.log4j:log4j-core", e.getKey(), "p", "s")));
      if (e.getValue().isEmpty()) {
        assertThat(f).as(e.getKey()).isEmpty();
      } else {
        assertThat(f)
            .as(e.getKey())
            .extracting(Vulnerabilities.Finding::fixed)
            .containsExactly(e.getValue());
      }
    }
    // 1.10.0 > 1.9 (not a string order); 1.4 is before the range
    for (String v : List.of("1.4", "1.10.0", "1.10.1")) {
      assertThat(
              db.match(
                  List.of(
                      new Sbom.Component("Maven", "org.apache.commons:commons-text", v, "p", "s"))))
          .as(v)
          .isEmpty();
    }
  }

  @Test
  void debianVersions_orderAsDpkgOrdersThem() throws Exception {
    String[][] pairs = {
      {"1.0", "1.0~rc1"},
      {"1:1.0", "2.0"},
      {"1.2.3-1", "1.2.3-1+deb12u1"},
      {"2.0~beta2-1", "2.0~rc1-3"},
      {"1.0a", "1.0"},
      {"1.0-1", "1.0.1-1"},
      {"3.0.11-1~deb12u2", "3.0.11-1"},
      {"1.10", "1.9"},
      {"0:1.0", "1.0"},
      {"1.0+dfsg-2", "1.0-2"},
      {"7.88.1-10+deb12u8", "7.88.1-10+deb12u12"},
      {"2.36-9+deb12u4", "2.36-9+deb12u10"},
      {"1.2.13.dfsg-1", "1.2.13-1"},
      {"a", "1"}
    };
    for (String[] p : pairs) {
      int ours = Integer.signum(DebianVersion.compare(p[0], p[1]));
      assertThat(ours).as(p[0] + " vs " + p[1]).isEqualTo(dpkg(p[0], p[1]));
      assertThat(Integer.signum(DebianVersion.compare(p[1], p[0]))).isEqualTo(-ours);
    }
  }

  /** dpkg --compare-versions as the reference: -1, 0 or 1. */
  static int dpkg(String a, String b) throws Exception {
    for (String[] op : new String[][] {{"lt", "-1"}, {"eq", "0"}, {"gt", "1"}}) {
      Process p = new ProcessBuilder("dpkg", "--compare-versions", a, op[0], b).start();
      assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
      if (p.exitValue() == 0) {
        return Integer.parseInt(op[1]);
      }
    }
    throw new AssertionError("dpkg compared nothing: " + a + " " + b);
  }

  @Test
  void debianPackages_areMatchedBySourcePackage_andRelease() throws Exception {
    Path root = tmp.resolve("root");
    Files.createDirectories(root.resolve("var/lib/dpkg"));
    Files.writeString(
        root.resolve("var/lib/dpkg/status"),
        "Package: phtest-bin\nStatus: install ok installed\nSource: phtest-src (1:2.0~beta2-1)\n"
            + "Version: 1:2.0~beta2-1+b1\nArchitecture: amd64\n\n"
            + "Package: phtest-other\nStatus: install ok installed\nVersion: 1.0\n\n"
            + "Package: phtest-fixed\nStatus: install ok installed\nSource: phtest-src\nVersion: 1:2.0-1\n\n"
            + "Package: gone\nStatus: deinstall ok config-files\nVersion: 1.0\n");
    List<Sbom.Component> pkgs = Sbom.fromDpkg(root);
    assertThat(pkgs)
        .extracting(Sbom.Component::source)
        .containsExactly("phtest-bin", "phtest-other", "phtest-fixed");
    assertThat(pkgs.get(0).purl())
        .isEqualTo("pkg:deb/debian/phtest-bin@1:2.0~beta2-1+b1?arch=amd64");
    List<Vulnerabilities.Finding> f = db().match(pkgs);
    assertThat(f)
        .extracting(
            x -> x.component().source(),
            Vulnerabilities.Finding::fixed,
            Vulnerabilities.Finding::severity)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("phtest-bin", "1:2.0~rc1-3+deb12u1", "high"));
  }

  @Test
  void anImport_skipsWhatIsNotAnOsvRecord_andReplacesARecordOfTheSameId() throws Exception {
    Path src = tmp.resolve("export.zip");
    try (OutputStream out = Files.newOutputStream(src);
        ZipOutputStream z = new ZipOutputStream(out)) {
      entry(
          z,
          "GHSA-599f-7c49-w659.json",
          Files.readAllBytes(fixtures().resolve("Maven/GHSA-599f-7c49-w659.json")));
      entry(z, "broken.json", "{not json".getBytes(StandardCharsets.UTF_8));
      entry(z, "no-affected.json", "{\"id\": \"X-1\"}".getBytes(StandardCharsets.UTF_8));
      entry(
          z,
          "../evil.json",
          "{\"id\": \"../../x\", \"affected\": [{}]}".getBytes(StandardCharsets.UTF_8));
    }
    Path dir = tmp.resolve("db");
    Vulnerabilities.Imported i = Vulnerabilities.importFrom(src, dir);
    assertThat(i.records()).isEqualTo(1);
    assertThat(i.skipped()).isEqualTo(3);
    assertThat(Vulnerabilities.importFrom(src, dir).records()).isEqualTo(1);
    assertThat(Vulnerabilities.load(dir, "12").records()).isEqualTo(1);
    assertThat(tmp.resolve("evil.json")).doesNotExist();
    assertThat(Vulnerabilities.atLeast("critical", "high")).isTrue();
    assertThat(Vulnerabilities.atLeast("medium", "high")).isFalse();
    assertThat(Vulnerabilities.atLeast("unknown", "low")).isFalse();
  }
}
