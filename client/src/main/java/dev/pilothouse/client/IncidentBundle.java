package dev.pilothouse.client;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The incident bundle's format, shared by the daemon that seals it and the CLI that opens it: a zip
 * of text files, encrypted with AES-256-GCM under a 32-byte key the caller chose.
 */
public final class IncidentBundle {
  private IncidentBundle() {}

  private static final SecureRandom RANDOM = new SecureRandom();

  /** The bundle format: magic, then a 12-byte nonce, then AES-256-GCM of the zip. */
  public static final byte[] MAGIC = "PHIB1\n".getBytes(StandardCharsets.US_ASCII);

  /** Largest bundle opened (the zip inside): a bound on what a hostile file can make us inflate. */
  public static final long MAX_OPEN_BYTES = 512L << 20;

  /** A new random bundle key, base64url (what {@code incident capture} prints once). */
  public static String newKey() {
    byte[] k = new byte[32];
    RANDOM.nextBytes(k);
    return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(k);
  }

  /**
   * The key as bytes.
   *
   * @throws IllegalArgumentException when it is not 32 bytes of base64url
   */
  public static byte[] key(String key) {
    byte[] k;
    try {
      k = java.util.Base64.getUrlDecoder().decode(key == null ? "" : key);
    } catch (IllegalArgumentException e) {
      k = new byte[0];
    }
    if (k.length != 32) {
      throw new IllegalArgumentException(
          "key: give 32 random bytes as base64url (43 characters), as 'incident capture' prints");
    }
    return k;
  }

  /** The bundle: MAGIC, a random nonce, then the plain bytes under AES-256-GCM. */
  public static byte[] seal(byte[] key, byte[] plain) {
    try {
      byte[] nonce = new byte[12];
      RANDOM.nextBytes(nonce);
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, nonce));
      c.updateAAD(MAGIC);
      byte[] ct = c.doFinal(plain);
      return ByteBuffer.allocate(MAGIC.length + nonce.length + ct.length)
          .put(MAGIC)
          .put(nonce)
          .put(ct)
          .array();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is not available", e);
    }
  }

  /**
   * Opens a bundle into dir (made 0700; files 0600).
   *
   * @return the files written
   * @throws IllegalArgumentException when it is not a bundle, the key is wrong, or it was changed
   */
  public static List<Path> open(byte[] sealed, String key, Path dir) throws IOException {
    byte[] k = key(key);
    if (sealed.length < MAGIC.length + 12 + 16
        || !Arrays.equals(Arrays.copyOf(sealed, MAGIC.length), MAGIC)) {
      throw new IllegalArgumentException("not an incident bundle (it does not start with PHIB1)");
    }
    byte[] zip;
    try {
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(
          Cipher.DECRYPT_MODE,
          new SecretKeySpec(k, "AES"),
          new GCMParameterSpec(128, sealed, MAGIC.length, 12));
      c.updateAAD(MAGIC);
      zip = c.doFinal(sealed, MAGIC.length + 12, sealed.length - MAGIC.length - 12);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "the bundle does not open with this key: a wrong key, or the file was changed");
    }
    Files.createDirectories(
        dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Path root = dir.toRealPath();
    List<Path> out = new ArrayList<>();
    long total = 0;
    try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
      ZipEntry e;
      while ((e = in.getNextEntry()) != null) {
        Path f = root.resolve(e.getName()).normalize();
        if (!f.startsWith(root) || e.isDirectory()) {
          throw new IllegalArgumentException("the bundle names a file outside it: " + e.getName());
        }
        Files.createDirectories(
            f.getParent(),
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        byte[] b = in.readNBytes((int) Math.min(MAX_OPEN_BYTES - total + 1, Integer.MAX_VALUE - 8));
        total += b.length;
        if (total > MAX_OPEN_BYTES) {
          throw new IllegalArgumentException("the bundle holds more than 512 MiB");
        }
        Files.deleteIfExists(f);
        Files.createFile(
            f, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.write(f, b);
        out.add(f);
      }
    }
    return out;
  }
}
