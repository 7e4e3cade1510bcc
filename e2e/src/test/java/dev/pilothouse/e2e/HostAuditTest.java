package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Element;

/**
 * {@code pilothouse audit host} through a running daemon: against a fixture tree (its findings in
 * every output format, --fix with backups) and once against this machine.
 */
class HostAuditTest {
  @TempDir Path tmp;
  static final ObjectMapper JSON = new ObjectMapper();

  static void write(Path root, String path, String text, String mode) throws Exception {
    Path f = root.resolve(path.substring(1));
    Files.createDirectories(f.getParent());
    Files.writeString(f, text);
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
  }

  static Map<String, JsonNode> byId(JsonNode report) {
    Map<String, JsonNode> m = new HashMap<>();
    report.path("findings").forEach(f -> m.put(f.path("id").asText(), f));
    return m;
  }

  @Test
  void aFixtureHost_isAudited_inEveryFormat_andFixedWithBackups() throws Exception {
    Path root = tmp.resolve("host");
    write(root, "/proc/sys/kernel/randomize_va_space", "0\n", "rw-r--r--");
    write(root, "/proc/sys/net/ipv4/tcp_syncookies", "1\n", "rw-r--r--");
    write(root, "/etc/ssh/sshd_config", "PermitRootLogin yes\n", "rw-------");
    write(root, "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n", "rw-rw-rw-");
    write(root, "/etc/group", "root:x:0:\n", "rw-r--r--");
    try (Harness h = new Harness(tmp)) {
      h.cliEnv.put("PILOTHOUSE_AUDIT_ROOT", root.toString());
      h.ok("up", "--detach", "--api-port", "0", "--timeout", "60");

      Harness.Result json = h.cli("audit", "host", "-o", "json");
      assertThat(json.exit()).as("a failed rule: exit 1").isEqualTo(1);
      JsonNode report = JSON.readTree(json.out());
      Map<String, JsonNode> f = byId(report);
      JsonNode ssh = f.get("PH-SSH-001");
      assertThat(ssh.path("status").asText()).isEqualTo("fail");
      assertThat(ssh.path("cis").asText()).isEqualTo("5.1.20");
      assertThat(ssh.path("evidence").asText())
          .isEqualTo("sshd: PermitRootLogin yes; expected one of no,prohibit-password");
      assertThat(ssh.path("fix").asText()).contains("PermitRootLogin no");
      assertThat(f.get("PH-KRNL-001").path("status").asText()).isEqualTo("fail");
      assertThat(f.get("PH-NET-006").path("status").asText()).isEqualTo("pass");
      assertThat(f.get("PH-PERM-001").path("status").asText()).isEqualTo("fail");
      assertThat(f.get("PH-CRON-001").path("status").asText()).isEqualTo("skip");
      assertThat(f.get("PH-PILOT-001").path("status").asText()).isEqualTo("pass");
      assertThat(f).doesNotContainKey("PH-FS-006"); // level 2: not in the default profile
      assertThat(report.path("counts").path("error").asInt()).isZero();

      assertThat(h.cli("audit", "host", "--profile", "cis-debian12-l2", "-o", "json").out())
          .contains("PH-FS-006");
      Harness.Result table = h.cli("audit", "host");
      assertThat(table.out())
          .contains("hardening score")
          .contains("PH-SSH-001")
          .contains("[--fix]");

      JsonNode sarif = JSON.readTree(h.cli("audit", "host", "-o", "sarif").out());
      assertThat(sarif.path("version").asText()).isEqualTo("2.1.0");
      JsonNode results = sarif.path("runs").get(0).path("results");
      assertThat(results)
          .anySatisfy(r -> assertThat(r.path("ruleId").asText()).isEqualTo("PH-SSH-001"));
      assertThat(results)
          .allSatisfy(r -> assertThat(r.path("level").asText()).isIn("error", "warning"));

      String junit = h.cli("audit", "host", "-o", "junit").out();
      Element suite =
          (Element)
              DocumentBuilderFactory.newInstance()
                  .newDocumentBuilder()
                  .parse(new ByteArrayInputStream(junit.getBytes(StandardCharsets.UTF_8)))
                  .getElementsByTagName("testsuite")
                  .item(0);
      assertThat(Integer.parseInt(suite.getAttribute("failures")))
          .isEqualTo(report.path("counts").path("fail").asInt());
      assertThat(Integer.parseInt(suite.getAttribute("tests")))
          .isEqualTo(report.path("findings").size());
      assertThat(h.cli("audit", "host", "-o", "html").out())
          .startsWith("<!DOCTYPE html>")
          .contains("<td>PH-SSH-001</td>");

      // a viewer may not audit; an operator may not fix
      String viewer = h.ok("token", "create", "v", "--role", "viewer").out().strip();
      String op = h.ok("token", "create", "o", "--role", "operator").out().strip();
      HttpClient http = HttpClient.newHttpClient();
      String api = h.client().base();
      assertThat(
              SecurityTest.send(http, api, viewer, "POST", "/api/v1/audit/host", "{}").statusCode())
          .isEqualTo(403);
      assertThat(SecurityTest.send(http, api, op, "POST", "/api/v1/audit/host", "{}").statusCode())
          .isEqualTo(200);
      assertThat(
              SecurityTest.send(http, api, op, "POST", "/api/v1/audit/host/fix", "{}").statusCode())
          .isEqualTo(403);

      // --fix --dry-run changes nothing; --fix changes, backs up, checks again
      Harness.Result dry = h.cli("audit", "host", "--fix", "--dry-run");
      assertThat(dry.out()).contains("would set 'PermitRootLogin no' first");
      assertThat(Files.readString(root.resolve("etc/ssh/sshd_config")))
          .isEqualTo("PermitRootLogin yes\n");
      Harness.Result fixed = h.cli("audit", "host", "--fix");
      assertThat(fixed.out())
          .contains("now passing:")
          .contains("PH-SSH-001")
          .contains("PH-KRNL-001");
      assertThat(Files.readString(root.resolve("proc/sys/kernel/randomize_va_space")).strip())
          .isEqualTo("2");
      assertThat(
              PosixFilePermissions.toString(
                  Files.getPosixFilePermissions(root.resolve("etc/passwd"))))
          .isEqualTo("rw-r--r--");
      Path backups = h.stateDir.resolve("audit/backups");
      try (var runs = Files.list(backups)) {
        Path run = runs.findFirst().orElseThrow();
        assertThat(Files.readString(run.resolve("etc/ssh/sshd_config")))
            .isEqualTo("PermitRootLogin yes\n");
      }
      Map<String, JsonNode> after = byId(JSON.readTree(h.cli("audit", "host", "-o", "json").out()));
      assertThat(after.get("PH-SSH-001").path("status").asText()).isEqualTo("pass");
      assertThat(h.ok("events", "-o", "json").out())
          .contains("HostHardened")
          .contains("HostAudited");
    }
  }

  @Test
  void thisMachine_isAudited_withoutErrors() throws Exception {
    try (Harness h = new Harness(tmp)) {
      h.ok("up", "--detach", "--api-port", "0", "--timeout", "60");
      Harness.Result r = h.cli("audit", "host", "--profile", "cis-debian12-l2", "-o", "json");
      assertThat(r.exit()).as(r.err()).isIn(0, 1);
      JsonNode report = JSON.readTree(r.out());
      assertThat(report.path("root").asText()).isEqualTo("/");
      assertThat(report.path("counts").path("error").asInt()).as(r.out()).isZero();
      assertThat(report.path("findings").size()).isGreaterThanOrEqualTo(50);
      // what this machine is known to have: root's own files, the daemon's own setup
      Map<String, JsonNode> f = byId(report);
      assertThat(f.get("PH-PERM-001").path("status").asText()).isEqualTo("pass");
      assertThat(f.get("PH-USER-001").path("status").asText()).isEqualTo("pass");
      assertThat(f.get("PH-PILOT-001").path("status").asText()).isEqualTo("pass");
      assertThat(f.get("PH-PILOT-002").path("status").asText()).isEqualTo("pass");
      assertThat(f.get("PH-PILOT-003").path("status").asText()).isEqualTo("fail"); // plain HTTP
      assertThat(r.exit()).isEqualTo(1);
    }
  }
}
