package dev.pilothouse.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TLS termination with real PEM files, and per-route limits answering 503. */
class TlsAndLimitsTest {
  @TempDir Path dir;

  @Test
  void terminatesTls_fromPemCertificateAndKey() throws Exception {
    Path cert = dir.resolve("cert.pem");
    Path key = dir.resolve("key.pem");
    Process p =
        new ProcessBuilder(
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout",
                key.toString(),
                "-out",
                cert.toString())
            .redirectErrorStream(true)
            .start();
    p.getInputStream().readAllBytes();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isZero();
    try (TestBackend b = new TestBackend("tls-backend");
        DataPlane dp =
            DataPlane.start(
                new ProxyOptions(
                    "127.0.0.1", 0, 1, cert, key, Duration.ofSeconds(60), null, 1.0))) {
      dp.update(
          RouteTable.of(
              List.of(Route.simple("r", "/", List.of(b.backend("v1")), RoutePolicy.defaults()))));
      KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
      ks.load(null, null);
      try (InputStream in = Files.newInputStream(cert)) {
        ks.setCertificateEntry(
            "self", CertificateFactory.getInstance("X.509").generateCertificate(in));
      }
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      SSLContext ssl = SSLContext.getInstance("TLS");
      ssl.init(null, tmf.getTrustManagers(), null);
      HttpClient https =
          HttpClient.newBuilder().sslContext(ssl).version(HttpClient.Version.HTTP_1_1).build();
      HttpResponse<String> r =
          https.send(
              HttpRequest.newBuilder(URI.create("https://localhost:" + dp.port() + "/")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.body()).isEqualTo("tls-backend\n");
      assertThat(b.lastHeaders).containsEntry("x-forwarded-proto", "https");
    }
  }

  @Test
  void missingTlsFiles_failWithWhatToFix() {
    assertThatThrownBy(
            () ->
                DataPlane.start(
                    new ProxyOptions(
                        "127.0.0.1",
                        0,
                        1,
                        dir.resolve("no.pem"),
                        dir.resolve("no.key"),
                        Duration.ofSeconds(60),
                        null,
                        1.0)))
        .isInstanceOf(ProxyException.class)
        .hasMessageContaining("cannot load TLS certificate");
  }

  @Test
  void portInUse_failsWithWhatToFix() throws Exception {
    try (DataPlane first = DataPlane.start(ProxyOptions.plain("127.0.0.1", 0))) {
      assertThatThrownBy(() -> DataPlane.start(ProxyOptions.plain("127.0.0.1", first.port())))
          .isInstanceOf(ProxyException.class)
          .hasMessageContaining("cannot listen on 127.0.0.1:" + first.port())
          .hasMessageContaining("change proxy.port");
    }
  }

  @Test
  void maxRequestsInFlight_answers503() throws Exception {
    try (TestBackend b = new TestBackend("slow")) {
      b.delayMs = 1500;
      RoutePolicy d = RoutePolicy.defaults();
      RoutePolicy limited = d.withRetriesAndMaxRequests(0, 2);
      try (DataPlane dp = DataPlane.start(ProxyOptions.plain("127.0.0.1", 0))) {
        dp.update(
            RouteTable.of(List.of(Route.simple("r", "/", List.of(b.backend("v1")), limited))));
        HttpClient http = HttpClient.newHttpClient();
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
          calls.add(
              http.sendAsync(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + dp.port() + "/")).build(),
                  HttpResponse.BodyHandlers.ofString()));
          Thread.sleep(100);
        }
        List<Integer> codes =
            calls.stream().map(CompletableFuture::join).map(HttpResponse::statusCode).toList();
        assertThat(codes).filteredOn(c -> c == 200).hasSize(2);
        assertThat(codes).filteredOn(c -> c == 503).hasSize(3);
        assertThat(dp.metrics().prometheus()).contains("class=\"5xx\"} 3");
      }
    }
  }
}
