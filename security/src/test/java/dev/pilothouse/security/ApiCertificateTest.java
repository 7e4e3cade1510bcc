package dev.pilothouse.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The API's certificate: self-signed in the state directory, or PEM files made by openssl. */
class ApiCertificateTest {
  @TempDir Path dir;
  final Instant now = Instant.parse("2026-11-30T10:00:00Z");

  @Test
  void aSelfSignedCertificate_isMadeOnce_reused_andRenewedNearExpiryOrForANewHost()
      throws Exception {
    Path tls = dir.resolve("tls");
    ApiCertificate a = ApiCertificate.selfSigned(tls, "127.0.0.1", now);
    assertThat(a.fingerprint()).matches("([0-9A-F]{2}:){31}[0-9A-F]{2}");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tls.resolve("key.pem"))))
        .isEqualTo("rw-------");
    assertThat(a.leaf().getSubjectAlternativeNames())
        .extracting(n -> String.valueOf(n.get(1)))
        .contains("127.0.0.1", "localhost");
    assertThat(a.leaf().getNotAfter().toInstant()).isAfter(now.plus(Duration.ofDays(800)));

    // openssl reads it and prints the same fingerprint
    Process p =
        new ProcessBuilder(
                "openssl",
                "x509",
                "-in",
                tls.resolve("cert.pem").toString(),
                "-noout",
                "-fingerprint",
                "-sha256")
            .redirectErrorStream(true)
            .start();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(new String(p.getInputStream().readAllBytes()).strip())
        .isEqualToIgnoringCase("sha256 Fingerprint=" + a.fingerprint());

    assertThat(
            ApiCertificate.selfSigned(tls, "127.0.0.1", now.plus(Duration.ofDays(700)))
                .fingerprint())
        .as("reused while it has more than 30 days left")
        .isEqualTo(a.fingerprint());
    assertThat(
            ApiCertificate.selfSigned(tls, "127.0.0.1", now.plus(Duration.ofDays(800)))
                .fingerprint())
        .as("renewed within 30 days of expiry")
        .isNotEqualTo(a.fingerprint());
    ApiCertificate other =
        ApiCertificate.selfSigned(tls, "10.1.2.3", now.plus(Duration.ofDays(800)));
    assertThat(other.leaf().getSubjectAlternativeNames())
        .extracting(n -> String.valueOf(n.get(1)))
        .contains("10.1.2.3");

    // a pair left half-written by a crash is made again, not a reason to refuse to start
    Files.writeString(tls.resolve("key.pem"), "-----BEGIN PRIVATE KEY-----\ngarbage\n");
    assertThat(
            ApiCertificate.selfSigned(tls, "10.1.2.3", now.plus(Duration.ofDays(800)))
                .fingerprint())
        .isNotEqualTo(other.fingerprint());
  }

  @Test
  void pemFilesFromOpenssl_rsaAndEc_areUsed_andAKeyOfAnotherCertificateIsRefused()
      throws Exception {
    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "rsa.key",
        "-out",
        "rsa.pem",
        "-days",
        "30",
        "-subj",
        "/CN=api.example");
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ec.key"); // SEC1
    openssl(
        "req",
        "-x509",
        "-new",
        "-key",
        "ec.key",
        "-out",
        "ec.pem",
        "-days",
        "30",
        "-subj",
        "/CN=api.example");
    ApiCertificate rsa = ApiCertificate.fromFiles(dir.resolve("rsa.pem"), dir.resolve("rsa.key"));
    assertThat(rsa.keyStore().size()).isEqualTo(1);
    assertThat(rsa.generated()).isFalse();
    ApiCertificate ec = ApiCertificate.fromFiles(dir.resolve("ec.pem"), dir.resolve("ec.key"));
    assertThat(ec.leaf().getPublicKey().getAlgorithm()).isEqualTo("EC");

    assertThatThrownBy(
            () -> ApiCertificate.fromFiles(dir.resolve("rsa.pem"), dir.resolve("ec.key")))
        .isInstanceOf(ApiCertificate.CertificateException.class)
        .hasMessageContaining("does not belong to the certificate");
    assertThatThrownBy(
            () -> ApiCertificate.fromFiles(dir.resolve("rsa.key"), dir.resolve("rsa.key")))
        .isInstanceOf(ApiCertificate.CertificateException.class)
        .hasMessageContaining("holds no certificate");
    assertThatThrownBy(
            () -> ApiCertificate.fromFiles(dir.resolve("rsa.pem"), dir.resolve("rsa.pem")))
        .isInstanceOf(ApiCertificate.CertificateException.class)
        .hasMessageContaining("holds no unencrypted private key");
    assertThatThrownBy(
            () -> ApiCertificate.fromFiles(dir.resolve("none.pem"), dir.resolve("rsa.key")))
        .isInstanceOf(ApiCertificate.CertificateException.class)
        .hasMessageContaining("none.pem does not exist");
  }

  private void openssl(String... args) throws Exception {
    List<String> cmd = new java.util.ArrayList<>(List.of("openssl"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
  }
}
