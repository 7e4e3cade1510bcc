package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Vulnerability scanning through the daemon: real OSV records imported, a service's shaded jar
 * scanned in every format, and the deploy gate refusing a release with Log4Shell in it.
 */
class ScanTest {
  @TempDir Path tmp;
  static final ObjectMapper JSON = new ObjectMapper();
  static final Path OSV =
      Path.of("../security/src/test/resources/osv").toAbsolutePath().normalize();

  static void jar(Path jar, String log4j) throws Exception {
    try (OutputStream out = Files.newOutputStream(jar);
        ZipOutputStream z = new ZipOutputStream(out)) {
      z.putNextEntry(
          new ZipEntry("META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties"));
      z.write(
          ("groupId=org.apache.logging.log4j\nartifactId=log4j-core\nversion=" + log4j + "\n")
              .getBytes(StandardCharsets.ISO_8859_1));
      z.closeEntry();
    }
  }

  static String spec(String version, boolean gate) {
    return "services:\n"
        + "  app:\n"
        + "    command: /bin/sh\n"
        + "    args: ['-c', 'exec sleep 100000', 'app.jar']\n"
        + "    version: "
        + version
        + "\n"
        + (gate ? "    deploy: {scan: {blockOn: critical}}\n" : "");
  }

  @Test
  void aServicesJar_isScanned_andADeployWithLog4ShellIsRefused() throws Exception {
    jar(tmp.resolve("app.jar"), "2.14.1");
    try (Harness h = new Harness(tmp)) {
      h.up(h.writeSpec("v1.yaml", spec("v1", false)));
      assertThat(h.ok("scan").out()).contains("the vulnerability database is empty");

      Harness.Result update = h.ok("scan", "--update", OSV.toString());
      assertThat(update.out()).contains("imported 3 OSV records");

      JsonNode r = JSON.readTree(h.ok("scan", "app", "-o", "json").out());
      JsonNode app = r.path("targets").get(0);
      assertThat(app.path("target").asText()).isEqualTo("app");
      assertThat(app.path("components").asInt()).isEqualTo(1);
      JsonNode f = app.path("findings").get(0);
      assertThat(f.path("id").asText()).isEqualTo("GHSA-jfh8-c2jp-5v3q");
      assertThat(f.path("severity").asText()).isEqualTo("critical");
      assertThat(f.path("fixed").asText()).isEqualTo("2.15.0");
      assertThat(f.path("aliases").get(0).asText()).isEqualTo("CVE-2021-44228");

      Harness.Result table = h.cli("scan", "--fail-on", "critical");
      assertThat(table.exit()).isEqualTo(1);
      assertThat(table.out())
          .contains("GHSA-jfh8-c2jp-5v3q")
          .contains("host: ")
          .contains("app: 1 components, 1 known");

      JsonNode bom = JSON.readTree(h.ok("scan", "app", "-o", "cyclonedx").out());
      assertThat(bom.path("bomFormat").asText()).isEqualTo("CycloneDX");
      assertThat(bom.path("components").get(0).path("purl").asText())
          .isEqualTo("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1");
      assertThat(bom.path("vulnerabilities").get(0).path("id").asText())
          .isEqualTo("GHSA-jfh8-c2jp-5v3q");
      JsonNode sarif = JSON.readTree(h.ok("scan", "app", "-o", "sarif").out());
      assertThat(sarif.path("runs").get(0).path("results").get(0).path("ruleId").asText())
          .isEqualTo("GHSA-jfh8-c2jp-5v3q");

      // the gate: a new release with Log4Shell in it is refused, naming it and its fix
      Harness.Result refused =
          h.cli("apply", "-f", h.writeSpec("v2.yaml", spec("v2", true)).toString());
      assertThat(refused.exit()).isNotZero();
      assertThat(refused.err())
          .contains(
              "GHSA-jfh8-c2jp-5v3q (CVE-2021-44228) critical in org.apache.logging.log4j:log4j-core 2.14.1, fixed in 2.15.0");
      assertThat(h.status().services().get(0).version()).isEqualTo("v1");

      jar(tmp.resolve("app.jar"), "2.17.1");
      h.ok("apply", "-f", h.writeSpec("v2b.yaml", spec("v2", true)).toString());
      h.awaitReady("app", 1, java.time.Duration.ofSeconds(30));
      assertThat(h.status().services().get(0).version()).isEqualTo("v2");
    }
  }
}
