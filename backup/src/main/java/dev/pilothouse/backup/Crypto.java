package dev.pilothouse.backup;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * A repository's master key in use: AES-256-GCM for everything stored (a random 96-bit nonce before
 * each ciphertext, the 128-bit tag after it), HMAC-SHA-256 under a second key for blob ids (so that
 * the ids reveal nothing of the data to whoever holds the storage), and a third key that seeds the
 * chunker (so that chunk boundaries reveal nothing either).
 */
public final class Crypto {
  public static final int NONCE = 12;
  public static final int TAG = 16;
  public static final int OVERHEAD = NONCE + TAG;
  static final int MASTER_BYTES = 96;

  private final SecretKeySpec encKey;
  private final SecretKeySpec macKey;
  private final byte[] chunkerSeed;
  private final ThreadLocal<Cipher> cipher = ThreadLocal.withInitial(Crypto::newCipher);
  private final ThreadLocal<Mac> mac;
  private final ThreadLocal<SecureRandom> random = ThreadLocal.withInitial(Crypto::newRandom);

  /** A master key of 96 bytes: encryption key, id key, chunker seed. */
  public Crypto(byte[] master) {
    if (master.length != MASTER_BYTES) {
      throw new IllegalArgumentException("a master key has " + MASTER_BYTES + " bytes");
    }
    this.encKey = new SecretKeySpec(Arrays.copyOfRange(master, 0, 32), "AES");
    this.macKey = new SecretKeySpec(Arrays.copyOfRange(master, 32, 64), "HmacSHA256");
    this.chunkerSeed = Arrays.copyOfRange(master, 64, 96);
    this.mac = ThreadLocal.withInitial(() -> newMac(macKey));
  }

  /** A new random master key. */
  public static byte[] newMaster() {
    byte[] m = new byte[MASTER_BYTES];
    new SecureRandom().nextBytes(m);
    return m;
  }

  public byte[] chunkerSeed() {
    return chunkerSeed.clone();
  }

  /** The id of a blob: HMAC-SHA-256 of its plaintext under the id key. */
  public Id id(byte[] data, int off, int len) {
    Mac m = mac.get();
    m.update(data, off, len);
    return Id.of(m.doFinal());
  }

  /** Encrypts plain: nonce, ciphertext, tag. */
  public byte[] seal(byte[] plain, int off, int len) {
    return seal(encKey, plain, off, len, random.get(), cipher.get());
  }

  public byte[] seal(byte[] plain) {
    return seal(plain, 0, plain.length);
  }

  /**
   * Decrypts and authenticates what {@link #seal} wrote.
   *
   * @throws BackupException when the data was changed or was sealed under another key
   */
  public byte[] open(byte[] sealed, int off, int len) {
    return open(encKey, sealed, off, len, cipher.get());
  }

  public byte[] open(byte[] sealed) {
    return open(sealed, 0, sealed.length);
  }

  static byte[] seal(
      SecretKeySpec key, byte[] plain, int off, int len, SecureRandom random, Cipher c) {
    byte[] out = new byte[NONCE + len + TAG];
    byte[] nonce = new byte[NONCE];
    random.nextBytes(nonce);
    System.arraycopy(nonce, 0, out, 0, NONCE);
    try {
      c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG * 8, out, 0, NONCE));
      c.doFinal(plain, off, len, out, NONCE);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM failed: " + e.getMessage(), e);
    }
    return out;
  }

  static byte[] open(SecretKeySpec key, byte[] sealed, int off, int len, Cipher c) {
    if (len < OVERHEAD) {
      throw new BackupException("encrypted data is truncated (" + len + " bytes)");
    }
    try {
      c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG * 8, sealed, off, NONCE));
      return c.doFinal(sealed, off + NONCE, len - NONCE);
    } catch (AEADBadTagException e) {
      throw new BackupException("encrypted data does not authenticate (changed or corrupt)", e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM failed: " + e.getMessage(), e);
    }
  }

  /** NIST's DRBG, one per thread: the default NativePRNG serializes every thread on a lock. */
  static SecureRandom newRandom() {
    try {
      return SecureRandom.getInstance("DRBG");
    } catch (NoSuchAlgorithmException e) {
      return new SecureRandom();
    }
  }

  static Cipher newCipher() {
    try {
      return Cipher.getInstance("AES/GCM/NoPadding");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK has no AES-GCM", e);
    }
  }

  static Mac newMac(SecretKeySpec key) {
    try {
      Mac m = Mac.getInstance("HmacSHA256");
      m.init(key);
      return m;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK has no HMAC-SHA-256", e);
    }
  }

  /** SHA-256 of bytes: the name of every file in a repository. */
  public static Id sha256(byte[] data, int off, int len) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      d.update(data, off, len);
      return Id.of(d.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JDK has no SHA-256", e);
    }
  }

  public static Id sha256(byte[] data) {
    return sha256(data, 0, data.length);
  }
}
