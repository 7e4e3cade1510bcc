package dev.pilothouse.security;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The API's TLS certificate and key: given as PEM files, or self-signed and kept in the state
 * directory ({@code tls/cert.pem}, {@code tls/key.pem} 0600), made at the first start with TLS and
 * again when it is within 30 days of expiry. Clients pin it by its SHA-256 fingerprint.
 */
public final class ApiCertificate {
  /** Why a certificate or key cannot be used: names the file and what to do. */
  public static final class CertificateException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CertificateException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  static final Duration LIFETIME = Duration.ofDays(825);
  static final Duration RENEW_BEFORE = Duration.ofDays(30);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final List<X509Certificate> chain;
  private final PrivateKey key;
  private final Path certFile;
  private final boolean generated;

  private ApiCertificate(
      List<X509Certificate> chain, PrivateKey key, Path certFile, boolean generated) {
    this.chain = List.copyOf(chain);
    this.key = key;
    this.certFile = certFile;
    this.generated = generated;
  }

  /**
   * The state directory's self-signed certificate for these names (the API's host, plus localhost
   * and the loopback addresses), made if missing, near expiry, or not covering a name.
   */
  public static ApiCertificate selfSigned(Path dir, String host, Instant now) {
    Path cert = dir.resolve("cert.pem");
    Path keyFile = dir.resolve("key.pem");
    Set<String> names = new LinkedHashSet<>(List.of(host, "localhost", "127.0.0.1", "::1"));
    if (Files.exists(cert) && Files.exists(keyFile)) {
      try {
        ApiCertificate c = fromFiles(cert, keyFile);
        if (c.leaf().getNotAfter().toInstant().isAfter(now.plus(RENEW_BEFORE)) && c.covers(names)) {
          return new ApiCertificate(c.chain, c.key, cert, true);
        }
      } catch (CertificateException damaged) {
        // a pair left half-written by a crash: made again below
      }
    }
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      KeyPair kp = g.generateKeyPair();
      X500Name subject = new X500Name("CN=pilothouse API " + host);
      JcaX509v3CertificateBuilder b =
          new JcaX509v3CertificateBuilder(
              subject,
              new BigInteger(127, RANDOM),
              Date.from(now.minus(Duration.ofMinutes(5))),
              Date.from(now.plus(LIFETIME)),
              subject,
              kp.getPublic());
      List<GeneralName> alt = new ArrayList<>();
      for (String n : names) {
        alt.add(
            isAddress(n)
                ? new GeneralName(GeneralName.iPAddress, n)
                : new GeneralName(GeneralName.dNSName, n));
      }
      b.addExtension(
          Extension.subjectAlternativeName,
          false,
          new GeneralNames(alt.toArray(GeneralName[]::new)));
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      b.addExtension(
          Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
      X509CertificateHolder h =
          b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate()));
      X509Certificate x = new JcaX509CertificateConverter().getCertificate(h);
      Files.createDirectories(
          dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      writeAtomically(keyFile, pem(kp.getPrivate()), "rw-------");
      writeAtomically(cert, pem(x), "rw-r--r--");
      return new ApiCertificate(List.of(x), kp.getPrivate(), cert, true);
    } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
      throw new CertificateException(
          "cannot make the API's self-signed certificate in " + dir + ": " + e.getMessage(), e);
    }
  }

  /** A certificate (chain) and its private key from PEM files (PKCS#8, or PKCS#1/SEC1). */
  public static ApiCertificate fromFiles(Path cert, Path key) {
    List<X509Certificate> chain = new ArrayList<>();
    try (Reader r = Files.newBufferedReader(cert, StandardCharsets.US_ASCII);
        PEMParser p = new PEMParser(r)) {
      Object o;
      while ((o = p.readObject()) != null) {
        if (o instanceof X509CertificateHolder h) {
          chain.add(new JcaX509CertificateConverter().getCertificate(h));
        }
      }
    } catch (NoSuchFileException e) {
      throw new CertificateException(cert + " does not exist: give a PEM certificate file", e);
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      throw new CertificateException(cert + " is not a PEM certificate file: " + e.getMessage(), e);
    }
    if (chain.isEmpty()) {
      throw new CertificateException(
          cert + " holds no certificate: give a file with '-----BEGIN CERTIFICATE-----'", null);
    }
    PrivateKey k;
    try (Reader r = Files.newBufferedReader(key, StandardCharsets.US_ASCII);
        PEMParser p = new PEMParser(r)) {
      Object o = p.readObject();
      JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
      if (o instanceof PEMKeyPair kp) {
        k = conv.getPrivateKey(kp.getPrivateKeyInfo());
      } else if (o instanceof PrivateKeyInfo info) {
        k = conv.getPrivateKey(info);
      } else {
        throw new CertificateException(
            key
                + " holds no unencrypted private key: give a PEM key ('-----BEGIN PRIVATE KEY-----',"
                + " or an RSA or EC key); decrypt it first ('openssl pkey -in KEY -out KEY.pem')",
            null);
      }
    } catch (NoSuchFileException e) {
      throw new CertificateException(key + " does not exist: give a PEM private key file", e);
    } catch (IOException | RuntimeException e) {
      if (e instanceof CertificateException c) {
        throw c;
      }
      throw new CertificateException(key + " is not a PEM private key: " + e.getMessage(), e);
    }
    ApiCertificate c = new ApiCertificate(chain, k, cert, false);
    c.keyStore(); // refuses a key that does not belong to the certificate
    return c;
  }

  public X509Certificate leaf() {
    return chain.get(0);
  }

  /** The certificate file clients may trust (curl --cacert, Grafana's CA). */
  public Path certFile() {
    return certFile;
  }

  public boolean generated() {
    return generated;
  }

  /** SHA-256 of the leaf certificate, as hex pairs separated by ':' (as openssl prints it). */
  public String fingerprint() {
    return fingerprint(leaf());
  }

  public static String fingerprint(X509Certificate c) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(c.getEncoded());
      return HexFormat.ofDelimiter(":").withUpperCase().formatHex(d);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }

  /** The key and chain as an in-memory PKCS#12 key store, with its password. */
  public KeyStore keyStore() {
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry("api", key, password(), chain.toArray(X509Certificate[]::new));
      if (!matches()) {
        throw new CertificateException(
            "the private key does not belong to the certificate "
                + certFile
                + ": give the key the certificate was issued for",
            null);
      }
      return ks;
    } catch (GeneralSecurityException | IOException e) {
      throw new CertificateException("cannot use the certificate and key: " + e.getMessage(), e);
    }
  }

  /** The key store's password: the store lives in memory only, so a fixed one protects nothing. */
  public char[] password() {
    return "pilothouse".toCharArray();
  }

  private boolean matches() throws GeneralSecurityException {
    String algorithm = leaf().getPublicKey().getAlgorithm();
    if (!algorithm.equals(key.getAlgorithm())) {
      return false;
    }
    java.security.Signature s =
        java.security.Signature.getInstance(
            algorithm.equals("EC") ? "SHA256withECDSA" : "SHA256with" + algorithm);
    byte[] probe = "pilothouse".getBytes(StandardCharsets.US_ASCII);
    s.initSign(key);
    s.update(probe);
    byte[] sig = s.sign();
    s.initVerify(leaf().getPublicKey());
    s.update(probe);
    return s.verify(sig);
  }

  private boolean covers(Set<String> names) {
    try {
      var alt = leaf().getSubjectAlternativeNames();
      if (alt == null) {
        return false;
      }
      Set<String> have = new LinkedHashSet<>();
      for (List<?> e : alt) {
        have.add(normal(String.valueOf(e.get(1))));
      }
      return names.stream().map(ApiCertificate::normal).allMatch(have::contains);
    } catch (java.security.cert.CertificateParsingException e) {
      return false;
    }
  }

  private static String normal(String name) {
    if (isAddress(name)) {
      try {
        return InetAddress.getByName(name).getHostAddress();
      } catch (IOException e) {
        return name;
      }
    }
    return name.toLowerCase(java.util.Locale.ROOT);
  }

  private static boolean isAddress(String n) {
    return n.matches("[0-9.]+") || n.contains(":");
  }

  private static String pem(Object o) throws IOException {
    StringWriter w = new StringWriter();
    try (JcaPEMWriter p = new JcaPEMWriter(w)) {
      p.writeObject(
          o instanceof PrivateKey k
              ? new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(k, null)
              : o);
    }
    return w.toString();
  }

  private static void writeAtomically(Path f, String text, String mode) throws IOException {
    Path tmp = f.resolveSibling(f.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(
        tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(mode)));
    Files.writeString(tmp, text, StandardCharsets.US_ASCII);
    Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}
