package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The API over HTTPS: a self-signed certificate made at the first start and pinned by the CLI
 * through daemon.json, trusted by curl with --cacert, refused by clients that do not know it;
 * certificate files made by openssl; no plain HTTP beyond loopback.
 */
class TlsTest {
  @TempDir Path tmp;
  static final ObjectMapper JSON = new ObjectMapper();

  record Run(int exit, String out) {}

  Run run(Path dir, String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("timed out: " + List.of(cmd));
    }
    return new Run(p.exitValue(), out);
  }

  @Test
  void theApiOverHttps_isPinnedByTheCli_trustedWithItsCertificate_andRefusedOtherwise()
      throws Exception {
    try (Harness h = new Harness(tmp)) {
      Harness.Result up = h.ok("up", "--detach", "--api-port", "0", "--tls", "--timeout", "60");
      assertThat(up.out()).contains("daemon started at https://127.0.0.1:");
      JsonNode info = JSON.readTree(h.stateDir.resolve("daemon.json").toFile());
      String fingerprint = info.path("tlsFingerprint").asText();
      String api = info.path("api").asText();
      assertThat(up.out()).contains("API certificate SHA-256 fingerprint " + fingerprint);
      assertThat(h.ok("status").out()).contains("API " + api);

      // curl with the certificate: yes; without it, or over plain HTTP: no
      String token = Files.readString(h.stateDir.resolve("api-token")).strip();
      Path cert = h.stateDir.resolve("tls/cert.pem");
      Run trusted =
          run(
              tmp,
              "curl",
              "-sS",
              "--max-time",
              "10",
              "--cacert",
              cert.toString(),
              "-H",
              "Authorization: Bearer " + token,
              api + "/api/v1/status");
      assertThat(trusted.exit()).as(trusted.out()).isZero();
      assertThat(trusted.out()).contains("\"api\":\"" + api + "\"");
      // The dashboard is served over the same TLS: its cookie is Secure, and its pages read the
      // API over HTTPS too (pinned to the same certificate).
      Run login =
          run(
              tmp,
              "curl",
              "-sS",
              "-i",
              "--max-time",
              "10",
              "--cacert",
              cert.toString(),
              "--data-urlencode",
              "token=" + token,
              api + "/login");
      assertThat(login.exit()).as(login.out()).isZero();
      java.util.regex.Matcher session =
          java.util.regex.Pattern.compile("(?i)set-cookie: (pilothouse_session=[^;]+);[^\\r\\n]*")
              .matcher(login.out());
      assertThat(session.find()).as(login.out()).isTrue();
      assertThat(session.group())
          .contains("HttpOnly")
          .contains("SameSite=Strict")
          .contains("Secure");
      Run overview =
          run(
              tmp,
              "curl",
              "-sS",
              "--max-time",
              "20",
              "--cacert",
              cert.toString(),
              "-H",
              "Cookie: " + session.group(1),
              api + "/");
      assertThat(overview.out()).contains("<h1>Overview</h1>").contains("id=\"daemon\"");
      Run unknown = run(tmp, "curl", "-sS", "--max-time", "10", api + "/api/v1/status");
      assertThat(unknown.exit()).as(unknown.out()).isEqualTo(60); // peer certificate not trusted
      Run plain =
          run(
              tmp,
              "curl",
              "-sS",
              "--max-time",
              "10",
              api.replace("https://", "http://") + "/api/v1/status");
      assertThat(plain.exit()).as(plain.out()).isNotZero();
      Run fp =
          run(tmp, "openssl", "x509", "-in", cert.toString(), "-noout", "-fingerprint", "-sha256");
      assertThat(fp.out().strip()).isEqualToIgnoringCase("sha256 Fingerprint=" + fingerprint);

      // the JDK's default trust store does not know a self-signed certificate
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      boolean refused;
      try {
        http.send(
            HttpRequest.newBuilder(URI.create(api + "/api/v1/status")).build(),
            HttpResponse.BodyHandlers.ofString());
        refused = false;
      } catch (java.io.IOException e) {
        refused = true;
      }
      assertThat(refused).isTrue();

      // a daemon.json naming another certificate: the CLI refuses to talk, and says why
      Path infoFile = h.stateDir.resolve("daemon.json");
      String original = Files.readString(infoFile);
      Files.writeString(
          infoFile,
          original.replace(
              fingerprint,
              fingerprint.replace(
                  fingerprint.charAt(0), fingerprint.charAt(0) == 'A' ? 'B' : 'A')));
      Harness.Result pinned = h.cli("status");
      assertThat(pinned.exit()).isNotZero();
      assertThat(pinned.out() + pinned.err()).contains("not the one the daemon published");
      Files.writeString(infoFile, original);
      assertThat(h.ok("status").out()).contains("API " + api);

      // files made by openssl (reusing the self-signed one at restarts:
      // security/ApiCertificateTest)
      h.ok("down");
      Run req =
          run(
              tmp,
              "openssl",
              "req",
              "-x509",
              "-newkey",
              "rsa:2048",
              "-nodes",
              "-keyout",
              "api.key",
              "-out",
              "api.pem",
              "-days",
              "30",
              "-subj",
              "/CN=127.0.0.1",
              "-addext",
              "subjectAltName=IP:127.0.0.1");
      assertThat(req.exit()).as(req.out()).isZero();
      h.ok(
          "up",
          "--detach",
          "--api-port",
          "0",
          "--tls-cert",
          tmp.resolve("api.pem").toString(),
          "--tls-key",
          tmp.resolve("api.key").toString(),
          "--timeout",
          "60");
      String own = JSON.readTree(infoFile.toFile()).path("tlsFingerprint").asText();
      Run ownFp =
          run(tmp, "openssl", "x509", "-in", "api.pem", "-noout", "-fingerprint", "-sha256");
      assertThat(ownFp.out().strip()).isEqualToIgnoringCase("sha256 Fingerprint=" + own);
      String ownApi = JSON.readTree(infoFile.toFile()).path("api").asText();
      Run signed =
          run(
              tmp,
              "curl",
              "-sS",
              "--max-time",
              "10",
              "--cacert",
              "api.pem",
              "-H",
              "Authorization: Bearer " + token,
              ownApi + "/api/v1/status");
      assertThat(signed.exit()).as(signed.out()).isZero();
      h.ok("down");

      // beyond loopback without TLS: refused at start
      List<String> args =
          new ArrayList<>(
              List.of(
                  "up",
                  "--detach",
                  "--api-port",
                  "0",
                  "--api-host",
                  "0.0.0.0",
                  "--state-dir",
                  tmp.resolve("open").toString()));
      Harness.Result open = h.cli(args.toArray(String[]::new));
      assertThat(open.exit()).isNotZero();
      assertThat(open.err()).contains("without TLS, and tokens would cross the network in clear");
    }
  }
}
