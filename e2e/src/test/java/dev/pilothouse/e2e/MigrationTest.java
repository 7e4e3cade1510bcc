package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pilothouse.client.Wire;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The expand/contract example as a user runs it (examples/migration-v1.yaml, migration.yaml,
 * migration-contract.yaml; only the load balancer's port is changed to a free one): the expand
 * migration runs as v2's preDeploy hook, readers move to the new column by a gradual flag change
 * watched by a PromQL check, the contract migration is refused while any reader is left, then drops
 * the old column — with the same customer readable throughout.
 */
class MigrationTest {
  @TempDir Path tmp;
  final HttpClient http = HttpClient.newHttpClient();

  static Path example(String name) {
    return Path.of(Harness.LIB)
        .toAbsolutePath()
        .normalize()
        .getParent()
        .getParent()
        .getParent()
        .resolve("examples")
        .resolve(name);
  }

  String spec(Harness h, String name) throws Exception {
    return h.writeSpec(name, Files.readString(example(name)).replace("port: 8080", "port: 0"))
        .toString();
  }

  HttpResponse<String> call(int port, String method, String path, String user) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .header("x-user", user)
            .method(method, HttpRequest.BodyPublishers.noBody())
            .timeout(Duration.ofSeconds(5))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void expandFlagContract_keepsTheCustomerReadable_andContractWaitsForEveryReader()
      throws Exception {
    try (Harness h = new Harness(tmp)) {
      h.cliEnv.put("DEMO_DB", tmp.resolve("shop.db").toString());
      h.up(Path.of(spec(h, "migration-v1.yaml")));
      h.awaitReady("shop", 2, Duration.ofSeconds(60));
      int port = h.status().proxy().port();
      assertThat(call(port, "POST", "/customer?id=1&name=Ada+Lovelace", "ops").statusCode())
          .isEqualTo(200);
      assertThat(call(port, "GET", "/customer?id=1", "u1").body())
          .isEqualTo("Ada Lovelace (from name)\n");

      // Expand: v2's preDeploy adds and backfills full_name; the flag is off, so reads stay.
      h.cliEnv.put("FLAGS_URL", h.client().base());
      h.cliEnv.put("FLAGS_TOKEN", h.ok("flags", "token").out().trim());
      h.ok("apply", "-f", spec(h, "migration.yaml"));
      Wire.Rollout expand = DeployTest.awaitDone(h, Duration.ofSeconds(60));
      assertThat(expand.phase()).isEqualTo("Promoted");
      assertThat(call(port, "GET", "/customer?id=1", "u1").body())
          .isEqualTo("Ada Lovelace (from name)\n");
      assertThat(h.client().events(-1, 500)).extracting(Wire.Event::type).contains("DeployBackup");

      // Contract too early: the hook refuses, nothing is applied, v2 keeps serving.
      Harness.Result early = h.cli("apply", "-f", spec(h, "migration-contract.yaml"));
      assertThat(early.exit()).isNotZero();
      assertThat(early.err()).contains("the preDeploy hook exited with code 3");
      assertThat(call(port, "GET", "/customer?id=1", "u1").headers().firstValue("X-Version"))
          .hasValue("v2");

      // Readers move to full_name by a gradual flag change, watched by a PromQL check.
      h.ok(
          "flags",
          "rollout",
          "start",
          "read-full-name",
          "--to",
          "on",
          "--steps",
          "50,100",
          "--every",
          "3s",
          "--check-promql",
          "(sum(increase(demo_requests_total{job=\"shop\",code=\"500\"}[30s])) or vector(0)) < 1");
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(300))
          .until(
              () -> {
                for (int i = 0; i < 5; i++) {
                  assertThat(call(port, "GET", "/customer?id=1", "u" + i).statusCode())
                      .isEqualTo(200);
                }
                return h.client()
                    .flagRollout("read-full-name")
                    .path("phase")
                    .asText()
                    .equals("Completed");
              });
      assertThat(call(port, "GET", "/customer?id=1", "u1").body())
          .isEqualTo("Ada Lovelace (from full_name)\n");

      // Contract: every reader is on full_name, so name is dropped and v3 rolls out.
      h.ok("apply", "-f", spec(h, "migration-contract.yaml"));
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(300))
          .until(
              () ->
                  h.client().rollout("shop").toVersion().equals("v3")
                      && h.client().rollout("shop").phase().equals("Promoted"));
      HttpResponse<String> after = call(port, "GET", "/customer?id=1", "u1");
      assertThat(after.headers().firstValue("X-Version")).hasValue("v3");
      assertThat(after.body()).isEqualTo("Ada Lovelace (from full_name)\n");
      assertThat(call(port, "POST", "/customer?id=2&name=Grace+Hopper", "ops").statusCode())
          .isEqualTo(200);
      assertThat(call(port, "GET", "/customer?id=2", "u1").body())
          .isEqualTo("Grace Hopper (from full_name)\n");
      Path backups = h.stateDir.resolve("backups").resolve("shop");
      try (var s = Files.list(backups)) {
        assertThat(s.count())
            .as("a copy of the database before each deploy")
            .isGreaterThanOrEqualTo(2);
      }
    }
  }
}
