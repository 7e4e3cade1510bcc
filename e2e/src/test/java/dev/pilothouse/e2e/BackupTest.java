package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.RandomAccessFile;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Backups of a real service's data through the daemon and the CLI, restored in place. */
class BackupTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  @TempDir Path tmp;

  private static String call(String method, String url) throws Exception {
    return HTTP.send(
            HttpRequest.newBuilder(URI.create(url))
                .method(method, HttpRequest.BodyPublishers.noBody())
                .timeout(Duration.ofSeconds(5))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  @Test
  void backup_replicate_restore_in_place_verify_and_find_a_damaged_pack() throws Exception {
    Path data = tmp.resolve("data");
    Path repo = tmp.resolve("repo");
    String spec =
        "proxy: {port: 0}\n"
            + "repositories:\n"
            + "  local: {path: "
            + repo
            + ", passwordEnv: SHOP_BACKUP_PASSWORD, replicas: [offsite]}\n"
            + "  offsite: {path: "
            + tmp.resolve("offsite")
            + ", passwordEnv: SHOP_BACKUP_PASSWORD}\n"
            + "services:\n"
            + "  shop:\n    "
            + Harness.demoCommand()
            + "    env: {DEMO_DB: "
            + data.resolve("customers.db")
            + "}\n"
            + "    readiness: {http: /readyz, interval: 500ms}\n"
            + "    stop: {timeout: 2s}\n"
            + "    route: /\n"
            + "    backup: {paths: ["
            + data
            + "], keep: {last: 2}, repository: local}\n"
            + "    recovery: {rto: 15m, rpo: 1h}\n";
    try (Harness h = new Harness(tmp)) {
      h.cliEnv.put("SHOP_BACKUP_PASSWORD", "correct horse battery staple");
      h.up(h.writeSpec("shop.yaml", spec));
      h.awaitReady("shop", 1, Duration.ofSeconds(30));
      String lb = "http://127.0.0.1:" + h.status().proxy().port();
      assertThat(call("POST", lb + "/customer?id=1&name=Ada")).contains("saved");

      JsonNode first = JSON.readTree(h.ok("backup", "run", "shop", "-o", "json").out());
      String id = first.path("shortId").asText();
      assertThat(id).hasSize(8);
      assertThat(first.path("files").asLong()).isPositive();

      assertThat(call("POST", lb + "/customer?id=2&name=Bob")).contains("saved");
      JsonNode list = JSON.readTree(h.ok("backup", "list", "shop", "-o", "json").out());
      assertThat(list.path("snapshots")).hasSize(1);
      // replicated after the backup: the copy is listed
      assertThat(list.path("snapshots").get(0).path("copies").toString()).contains("offsite");

      // in place: Bob (written after the snapshot) is gone, Ada is back, the service serves again
      var restored = h.ok("restore", "shop", "--snapshot", id);
      assertThat(restored.out())
          .contains("restored snapshot " + id)
          .contains("what was there before is in snapshot");
      h.awaitReady("shop", 1, Duration.ofSeconds(30));
      assertThat(call("GET", lb + "/customer?id=2")).contains("no customer 2");
      assertThat(call("GET", lb + "/customer?id=1")).contains("Ada");
      // the safety snapshot holds what was there: restored elsewhere, it has Bob's row
      JsonNode after = JSON.readTree(h.ok("backup", "list", "shop", "-o", "json").out());
      assertThat(after.path("snapshots")).hasSize(2);
      String safety = after.path("snapshots").get(1).path("shortId").asText();
      assertThat(after.path("snapshots").get(1).path("tags").toString()).contains("pre-restore");
      Path target = tmp.resolve("elsewhere");
      h.ok("restore", "shop", "--snapshot", safety, "--target", target.toString());
      assertThat(Files.size(target.resolve(data.toString().substring(1)).resolve("customers.db")))
          .isPositive();

      // a drill: the latest snapshot restored into a sandbox, a second instance started on it and
      // ready, RTO and RPO measured; the service itself keeps serving
      JsonNode drill = JSON.readTree(h.ok("drill", "shop", "-o", "json").out());
      assertThat(drill.path("ok").asBoolean()).as(drill.toString()).isTrue();
      assertThat(drill.path("rtoMs").asLong()).isPositive().isLessThan(60_000);
      assertThat(drill.path("rpoSeconds").asLong()).isBetween(0L, 600L);
      assertThat(drill.path("rtoMet").asBoolean()).isTrue();
      assertThat(call("GET", lb + "/customer?id=1")).contains("Ada");
      JsonNode dr = JSON.readTree(h.ok("dr", "status", "-o", "json").out());
      assertThat(dr.path("services").get(0).path("lastDrill").path("ok").asBoolean()).isTrue();
      assertThat(dr.path("services").get(0).path("rpoMet").asBoolean()).isTrue();
      try (Stream<Path> s = Files.list(tmp.resolve("state").resolve("tmp"))) {
        assertThat(s.filter(p -> p.getFileName().toString().startsWith("drill-")).toList())
            .as("the drill's sandbox is removed")
            .isEmpty();
      }

      // failover: the primary's data restored from the replica ("another region"), in place
      var failover = h.ok("restore", "shop", "--from", "offsite", "--snapshot", id);
      assertThat(failover.out()).contains("restored snapshot " + id);
      h.awaitReady("shop", 1, Duration.ofSeconds(30));
      assertThat(call("GET", lb + "/customer?id=1")).contains("Ada");
      var notReplica = h.cli("restore", "shop", "--from", "nosuch");
      assertThat(notReplica.exit()).isNotZero();
      assertThat(notReplica.err()).contains("nor one of its replicas");

      // a deploy takes a pre-deploy snapshot; undoing it with --with-data brings back the data
      // as it was before the deploy, with the earlier spec
      h.ok("deploy", "shop", "--version", "v2");
      h.awaitReady("shop", 1, Duration.ofSeconds(30));
      JsonNode deployed = JSON.readTree(h.ok("backup", "list", "shop", "-o", "json").out());
      JsonNode preDeploy = deployed.path("snapshots").get(deployed.path("snapshots").size() - 1);
      assertThat(preDeploy.path("tags").toString()).contains("pre-deploy").contains("revision=");
      assertThat(call("POST", lb + "/customer?id=3&name=Cy")).contains("saved");
      h.ok("rollout", "undo", "shop", "--with-data");
      h.awaitReady("shop", 1, Duration.ofSeconds(30));
      assertThat(h.service("shop").version()).isNotEqualTo("v2");
      assertThat(call("GET", lb + "/customer?id=3")).contains("no customer 3");
      assertThat(call("GET", lb + "/customer?id=1")).contains("Ada");

      JsonNode ok = JSON.readTree(h.ok("backup", "verify", "--read-data", "-o", "json").out());
      assertThat(ok.path("ok").asBoolean()).isTrue();

      // a flipped byte in the largest pack: verify names it and exits 1
      Path victim;
      try (Stream<Path> s = Files.walk(repo.resolve("data"))) {
        victim =
            s.filter(Files::isRegularFile)
                .max(Comparator.comparingLong(p -> p.toFile().length()))
                .orElseThrow();
      }
      try (RandomAccessFile f = new RandomAccessFile(victim.toFile(), "rw")) {
        f.seek(40);
        int b = f.read();
        f.seek(40);
        f.write(b ^ 0x10);
      }
      var bad = h.cli("backup", "verify", "--read-data", "--repository", "local");
      assertThat(bad.exit()).isEqualTo(1);
      assertThat(bad.out()).contains(victim.getFileName().toString()).contains("damaged");

      // a service without a plan: a clear refusal
      var none = h.cli("backup", "run", "nosuch");
      assertThat(none.exit()).isNotZero();
      assertThat(none.err()).contains("declares no backup");
    }
  }
}
