package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Remote write both ways with real Prometheus (Debian's 2.42): the daemon ships its samples to
 * Prometheus's receiver, and Prometheus remote-writes its own metrics to the daemon's.
 */
class RemoteWriteTest {
  @TempDir Path tmp;

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Test
  void samplesFlowToPrometheus_andFromIt() throws Exception {
    int promPort = freePort();
    String spec =
        "metrics:\n"
            + "  scrapeInterval: 1s\n"
            + "  scrapeTimeout: 1s\n"
            + "  remoteWrite: ['http://127.0.0.1:"
            + promPort
            + "/api/v1/write']\n"
            + "services:\n  worker:\n    command: sleep\n    args: ['600']\n";
    Process prom = null;
    try (Harness h = new Harness(tmp)) {
      h.up(h.writeSpec("spec.yaml", spec));
      String api = h.client().base();
      String token = Files.readString(h.stateDir.resolve("api-token")).trim();
      Path cfg = tmp.resolve("prometheus.yml");
      Files.writeString(
          cfg,
          "global: {scrape_interval: 1s}\n"
              + "scrape_configs:\n"
              + "  - job_name: prometheus\n"
              + "    static_configs: [{targets: ['127.0.0.1:"
              + promPort
              + "']}]\n"
              + "remote_write:\n"
              + "  - url: "
              + api
              + "/api/v1/write\n"
              + "    basic_auth: {username: prometheus, password: '"
              + token
              + "'}\n"
              + "    queue_config: {batch_send_deadline: 1s}\n");
      Path data = tmp.resolve("prom-data");
      prom =
          new ProcessBuilder(
                  "/usr/bin/prometheus",
                  "--config.file=" + cfg,
                  "--storage.tsdb.path=" + data,
                  "--web.listen-address=127.0.0.1:" + promPort,
                  "--web.enable-remote-write-receiver")
              .redirectErrorStream(true)
              .redirectOutput(tmp.resolve("prometheus.log").toFile())
              .start();
      HttpClient http = HttpClient.newHttpClient();
      ObjectMapper json = new ObjectMapper();
      String q = URLEncoder.encode("up{job=\"node\"}", StandardCharsets.UTF_8);
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofSeconds(1))
          .ignoreExceptions()
          .until(
              () -> {
                HttpResponse<String> r =
                    http.send(
                        HttpRequest.newBuilder(
                                URI.create(
                                    "http://127.0.0.1:" + promPort + "/api/v1/query?query=" + q))
                            .build(),
                        HttpResponse.BodyHandlers.ofString());
                return json.readTree(r.body()).path("data").path("result").size() == 1;
              });
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofSeconds(1))
          .until(() -> h.ok("query", "count(prometheus_build_info)").out().contains("1"));
      assertThat(h.ok("query", "pilothouse_remote_write_samples_sent_total > 0").out())
          .contains("remote_write");
    } finally {
      if (prom != null) {
        prom.destroy();
        if (!prom.waitFor(10, TimeUnit.SECONDS)) {
          prom.destroyForcibly();
        }
      }
    }
  }
}
