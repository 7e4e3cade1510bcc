package dev.pilothouse.security;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Set;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Envelope encryption of secret values (AES-256-GCM): each value is sealed with a data key of its
 * own, and that key is wrapped by the master key; both carry the secret's name and version as
 * associated data, so a sealed value moved to another secret or version does not open.
 *
 * <p>The master key is a file of 32 random bytes ({@code master.key}, 0600, made at first use) or
 * is derived from a passphrase (PBKDF2-HMAC-SHA256, 600,000 iterations, a random salt kept beside
 * it). A check value sealed at first use tells a wrong key or passphrase apart from damaged data.
 */
public final class SecretBox {
  /** Why a sealed value cannot be opened or the key cannot be loaded: says what to do. */
  public static final class SealException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    SealException(String message) {
      super(message);
    }
  }

  static final String KEY_FILE = "master.key";
  static final String SALT_FILE = "salt";
  static final String CHECK_FILE = "check";
  static final int ITERATIONS = 600_000;
  private static final int KEY_BYTES = 32;
  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;
  private static final String FORMAT = "v1";
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Set<PosixFilePermission> OTHERS =
      Set.of(
          PosixFilePermission.GROUP_READ,
          PosixFilePermission.GROUP_WRITE,
          PosixFilePermission.OTHERS_READ,
          PosixFilePermission.OTHERS_WRITE);

  private final SecretKey master;

  private SecretBox(SecretKey master) {
    this.master = master;
  }

  /**
   * The box of a state directory's secrets (dir: its {@code secrets/} directory, made 0700 if
   * missing).
   *
   * @param passphrase null or empty: the key file
   * @throws SealException when the key cannot be read, is exposed, or does not match
   */
  public static SecretBox open(Path dir, String passphrase) {
    try {
      Files.createDirectories(
          dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      byte[] key =
          passphrase == null || passphrase.isEmpty()
              ? keyFile(dir.resolve(KEY_FILE))
              : derive(passphrase, salt(dir.resolve(SALT_FILE)));
      SecretBox box = new SecretBox(new SecretKeySpec(key, "AES"));
      Arrays.fill(key, (byte) 0);
      box.check(dir.resolve(CHECK_FILE), passphrase != null && !passphrase.isEmpty());
      return box;
    } catch (IOException e) {
      throw new SealException(
          "cannot read or create the secrets key in " + dir + ": " + e.getMessage());
    }
  }

  /** A box over a given key (tests, and the rotation of the master key). */
  static SecretBox of(byte[] key) {
    return new SecretBox(new SecretKeySpec(key.clone(), "AES"));
  }

  /** The value sealed for secret name's version. */
  public String seal(String name, int version, String value) {
    byte[] dataKey = new byte[KEY_BYTES];
    RANDOM.nextBytes(dataKey);
    try {
      byte[] wrapped = encrypt(master, dataKey, aad("key", name, version));
      byte[] body =
          encrypt(
              new SecretKeySpec(dataKey, "AES"),
              value.getBytes(StandardCharsets.UTF_8),
              aad("value", name, version));
      Base64.Encoder b64 = Base64.getEncoder().withoutPadding();
      return FORMAT + ":" + b64.encodeToString(wrapped) + ":" + b64.encodeToString(body);
    } finally {
      Arrays.fill(dataKey, (byte) 0);
    }
  }

  /**
   * The value sealed for secret name's version.
   *
   * @throws SealException when it was sealed with another key, for another secret, or was changed
   */
  public String open(String name, int version, String sealed) {
    String[] parts = sealed.split(":", -1);
    if (parts.length != 3 || !parts[0].equals(FORMAT)) {
      throw new SealException(
          "secret '" + name + "' version " + version + " is not in a format this daemon reads");
    }
    byte[] dataKey = null;
    try {
      Base64.Decoder b64 = Base64.getDecoder();
      dataKey = decrypt(master, b64.decode(parts[1]), aad("key", name, version));
      byte[] value =
          decrypt(
              new SecretKeySpec(dataKey, "AES"), b64.decode(parts[2]), aad("value", name, version));
      return new String(value, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException | GeneralSecurityException e) {
      throw new SealException(
          "secret '"
              + name
              + "' version "
              + version
              + " does not open with this master key: it was changed, or sealed with another key");
    } finally {
      if (dataKey != null) {
        Arrays.fill(dataKey, (byte) 0);
      }
    }
  }

  private static byte[] aad(String what, String name, int version) {
    return ("pilothouse-secret-" + what + "\u0000" + name + "\u0000" + version)
        .getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] encrypt(SecretKey key, byte[] plain, byte[] aad) {
    try {
      byte[] nonce = new byte[NONCE_BYTES];
      RANDOM.nextBytes(nonce);
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
      c.updateAAD(aad);
      byte[] ct = c.doFinal(plain);
      return ByteBuffer.allocate(NONCE_BYTES + ct.length).put(nonce).put(ct).array();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is not available", e);
    }
  }

  private static byte[] decrypt(SecretKey key, byte[] sealed, byte[] aad)
      throws GeneralSecurityException {
    if (sealed.length < NONCE_BYTES + TAG_BITS / 8) {
      throw new javax.crypto.AEADBadTagException("too short");
    }
    Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
    c.init(
        Cipher.DECRYPT_MODE,
        key,
        new GCMParameterSpec(TAG_BITS, Arrays.copyOfRange(sealed, 0, NONCE_BYTES)));
    c.updateAAD(aad);
    return c.doFinal(sealed, NONCE_BYTES, sealed.length - NONCE_BYTES);
  }

  private static byte[] keyFile(Path f) throws IOException {
    if (!Files.exists(f)) {
      byte[] key = new byte[KEY_BYTES];
      RANDOM.nextBytes(key);
      try {
        writePrivate(f, key);
        return key;
      } catch (FileAlreadyExistsException e) {
        // another process made it meanwhile: read that one
      }
    }
    exposed(f);
    byte[] key = Files.readAllBytes(f);
    if (key.length != KEY_BYTES) {
      throw new SealException(
          f
              + " holds "
              + key.length
              + " bytes, not the "
              + KEY_BYTES
              + " of a master key: restore it from a backup of the state directory");
    }
    return key;
  }

  private static byte[] salt(Path f) throws IOException {
    if (!Files.exists(f)) {
      byte[] salt = new byte[16];
      RANDOM.nextBytes(salt);
      try {
        writePrivate(f, salt);
        return salt;
      } catch (FileAlreadyExistsException e) {
        // made meanwhile
      }
    }
    return Files.readAllBytes(f);
  }

  private static byte[] derive(String passphrase, byte[] salt) {
    try {
      PBEKeySpec spec = new PBEKeySpec(passphrase.toCharArray(), salt, ITERATIONS, KEY_BYTES * 8);
      try {
        return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256")
            .generateSecret(spec)
            .getEncoded();
      } finally {
        spec.clearPassword();
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("PBKDF2WithHmacSHA256 is not available", e);
    }
  }

  /** Seals a known value at first use; later, refuses a key that does not open it. */
  private void check(Path f, boolean fromPassphrase) throws IOException {
    if (!Files.exists(f)) {
      try {
        writePrivate(f, seal("check", 0, "pilothouse").getBytes(StandardCharsets.US_ASCII));
      } catch (FileAlreadyExistsException e) {
        // made meanwhile
      }
      return;
    }
    try {
      open("check", 0, Files.readString(f, StandardCharsets.US_ASCII).strip());
    } catch (SealException e) {
      throw new SealException(
          (fromPassphrase
                  ? "the passphrase in PILOTHOUSE_SECRETS_PASSPHRASE is not the one"
                  : "the key in " + f.resolveSibling(KEY_FILE) + " is not the one")
              + " the secrets were sealed with: give the right "
              + (fromPassphrase ? "passphrase" : "key file, or set the passphrase used before"));
    }
  }

  private static void exposed(Path f) throws IOException {
    Set<PosixFilePermission> perms = Files.getPosixFilePermissions(f);
    if (perms.stream().anyMatch(OTHERS::contains)) {
      throw new SealException(
          f
              + " can be read or written by other users (mode "
              + PosixFilePermissions.toString(perms)
              + "): run 'chmod 600 "
              + f
              + "' (and consider rotating the secrets it protected)");
    }
  }

  private static void writePrivate(Path f, byte[] bytes) throws IOException {
    Path tmp = f.resolveSibling(f.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(
        tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.write(tmp, bytes);
    try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
      ch.force(true);
    }
    Files.createLink(f, tmp); // fails if f exists: never replaces a key
    Files.delete(tmp);
  }
}
