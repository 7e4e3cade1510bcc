package dev.pilothouse.security;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Merkle tree hashes and inclusion proofs as RFC 6962 (and RFC 9162, section 2.1) define them. */
public final class Merkle {
  private Merkle() {}

  /** The hash of a leaf: SHA-256(0x00 || data). */
  public static byte[] leafHash(byte[] data) {
    MessageDigest d = sha256();
    d.update((byte) 0);
    d.update(data);
    return d.digest();
  }

  /** The hash of an interior node: SHA-256(0x01 || left || right). */
  static byte[] nodeHash(byte[] left, byte[] right) {
    MessageDigest d = sha256();
    d.update((byte) 1);
    d.update(left);
    d.update(right);
    return d.digest();
  }

  /** The tree head over these leaf hashes (SHA-256 of nothing for none). */
  public static byte[] root(List<byte[]> leaves) {
    return leaves.isEmpty() ? sha256().digest() : root(leaves, 0, leaves.size());
  }

  private static byte[] root(List<byte[]> leaves, int from, int to) {
    int n = to - from;
    if (n == 1) {
      return leaves.get(from);
    }
    int k = split(n);
    return nodeHash(root(leaves, from, from + k), root(leaves, from + k, to));
  }

  /**
   * A tree's head kept up to date as leaves are appended, in memory of O(log n): the roots of its
   * perfect subtrees, largest first. Its head equals {@link #root(List)} over the same leaves.
   */
  public static final class Frontier {
    private final List<byte[]> roots = new ArrayList<>();
    private final List<Integer> heights = new ArrayList<>();
    private long size;

    public void append(byte[] leafHash) {
      byte[] h = leafHash;
      int height = 0;
      while (!heights.isEmpty() && heights.getLast() == height) {
        h = nodeHash(roots.removeLast(), h);
        heights.removeLast();
        height++;
      }
      roots.add(h);
      heights.add(height);
      size++;
    }

    public long size() {
      return size;
    }

    public byte[] root() {
      if (roots.isEmpty()) {
        return sha256().digest();
      }
      byte[] r = roots.getLast();
      for (int i = roots.size() - 2; i >= 0; i--) {
        r = nodeHash(roots.get(i), r);
      }
      return r;
    }
  }

  /** The largest power of two smaller than n (n ≥ 2). */
  private static int split(int n) {
    return Integer.highestOneBit(n - 1);
  }

  /** The audit path of leaf index (from 0) in the tree of these leaves: PATH(m, D[n]). */
  public static List<byte[]> inclusionProof(List<byte[]> leaves, int index) {
    if (index < 0 || index >= leaves.size()) {
      throw new IllegalArgumentException("leaf " + index + " is not in a tree of " + leaves.size());
    }
    List<byte[]> out = new ArrayList<>();
    path(leaves, index, 0, leaves.size(), out);
    return out;
  }

  private static void path(List<byte[]> leaves, int m, int from, int to, List<byte[]> out) {
    int n = to - from;
    if (n <= 1) {
      return;
    }
    int k = split(n);
    if (m < k) {
      path(leaves, m, from, from + k, out);
      out.add(root(leaves, from + k, to));
    } else {
      path(leaves, m - k, from + k, to, out);
      out.add(root(leaves, from, from + k));
    }
  }

  /** Whether proof shows leafHash at index (from 0) in the tree of size whose head is root. */
  public static boolean verifyInclusion(
      byte[] leafHash, long index, long size, List<byte[]> proof, byte[] root) {
    if (index < 0 || index >= size) {
      return false;
    }
    long fn = index;
    long sn = size - 1;
    byte[] r = leafHash;
    for (byte[] p : proof) {
      if (sn == 0) {
        return false;
      }
      if ((fn & 1) == 1 || fn == sn) {
        r = nodeHash(p, r);
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      } else {
        r = nodeHash(r, p);
      }
      fn >>= 1;
      sn >>= 1;
    }
    return sn == 0 && Arrays.equals(r, root);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
