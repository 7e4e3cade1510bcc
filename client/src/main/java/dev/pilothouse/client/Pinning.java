package dev.pilothouse.client;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * TLS that trusts exactly one certificate, named by its SHA-256 fingerprint (the daemon publishes
 * it in daemon.json): a self-signed certificate needs no trust store, and no other certificate is
 * accepted, whoever signed it. Host names are not checked: the fingerprint is the identity.
 */
final class Pinning {
  private Pinning() {}

  /** An SSL context trusting only the certificate with this fingerprint (hex, ':' optional). */
  static SSLContext context(String fingerprint) {
    String want = fingerprint.replace(":", "").toLowerCase(java.util.Locale.ROOT);
    X509TrustManager tm =
        new X509TrustManager() {
          @Override
          public void checkClientTrusted(X509Certificate[] chain, String authType)
              throws CertificateException {
            throw new CertificateException("this client does not trust clients");
          }

          @Override
          public void checkServerTrusted(X509Certificate[] chain, String authType)
              throws CertificateException {
            if (chain == null || chain.length == 0) {
              throw new CertificateException("the server sent no certificate");
            }
            String got = sha256(chain[0]);
            if (!MessageDigest.isEqual(
                got.getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                want.getBytes(java.nio.charset.StandardCharsets.US_ASCII))) {
              throw new CertificateException(
                  "the API's certificate has the SHA-256 fingerprint "
                      + HexFormat.ofDelimiter(":")
                          .withUpperCase()
                          .formatHex(HexFormat.of().parseHex(got))
                      + ", not the one the daemon published: another server answers at this"
                      + " address");
            }
          }

          @Override
          public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
          }
        };
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, new TrustManager[] {tm}, new SecureRandom());
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("TLS is not available", e);
    }
  }

  static String sha256(X509Certificate c) throws CertificateException {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(c.getEncoded()));
    } catch (GeneralSecurityException e) {
      throw new CertificateException(e);
    }
  }
}
