package dev.pilothouse.backup;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

class ChunkerTest {
  private static final Chunker CHUNKER = new Chunker(new byte[32], 2048, 8192, 65536);

  static List<String> chunks(byte[] data) {
    List<String> out = new ArrayList<>();
    int at = 0;
    while (at < data.length) {
      int n = CHUNKER.cut(data, at, Math.min(CHUNKER.max(), data.length - at));
      assertThat(n).isPositive().isLessThanOrEqualTo(CHUNKER.max());
      if (at + n < data.length) {
        assertThat(n).isGreaterThanOrEqualTo(CHUNKER.min());
      }
      out.add(Crypto.sha256(data, at, n).hex());
      at += n;
    }
    return out;
  }

  /** The bytes of after that lie in chunks which before does not have. */
  static int changedBytes(byte[] before, byte[] after) {
    Set<String> old = new HashSet<>(chunks(before));
    int changed = 0;
    int at = 0;
    while (at < after.length) {
      int n = CHUNKER.cut(after, at, Math.min(CHUNKER.max(), after.length - at));
      if (!old.contains(Crypto.sha256(after, at, n).hex())) {
        changed += n;
      }
      at += n;
    }
    return changed;
  }

  private static byte[] data(long seed, int size) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    // text-like runs too, not only noise
    for (int i = 0; i < size; i += 4096) {
      Arrays.fill(b, i, Math.min(size, i + 64), (byte) 'a');
    }
    return b;
  }

  @Property(tries = 60)
  void an_insertion_changes_only_the_chunks_around_it(
      @ForAll @LongRange(min = 1, max = 1_000_000) long seed,
      @ForAll @IntRange(min = 0, max = 399_999) int at,
      @ForAll @IntRange(min = 1, max = 3000) int length) {
    byte[] before = data(seed, 400_000);
    byte[] inserted = new byte[length];
    new Random(seed + 1).nextBytes(inserted);
    byte[] after = new byte[before.length + length];
    System.arraycopy(before, 0, after, 0, at);
    System.arraycopy(inserted, 0, after, at, length);
    System.arraycopy(before, at, after, at + length, before.length - at);
    assertThat(chunks(before).size()).isGreaterThan(10);
    // what changed is the insertion and at most two maximal chunks around it; the rest is shared
    assertThat(changedBytes(before, after)).isLessThanOrEqualTo(length + 2 * CHUNKER.max());
  }

  @Property(tries = 60)
  void a_deletion_changes_only_the_chunks_around_it(
      @ForAll @LongRange(min = 1, max = 1_000_000) long seed,
      @ForAll @IntRange(min = 0, max = 390_000) int at,
      @ForAll @IntRange(min = 1, max = 3000) int length) {
    byte[] before = data(seed, 400_000);
    byte[] after = new byte[before.length - length];
    System.arraycopy(before, 0, after, 0, at);
    System.arraycopy(before, at + length, after, at, before.length - at - length);
    assertThat(changedBytes(before, after)).isLessThanOrEqualTo(2 * CHUNKER.max());
  }

  @Property(tries = 30)
  void chunks_cover_the_input_exactly_and_average_near_the_target(
      @ForAll @LongRange(min = 1, max = 1_000_000) long seed) {
    byte[] d = data(seed, 2_000_000);
    int at = 0;
    int n = 0;
    while (at < d.length) {
      at += CHUNKER.cut(d, at, Math.min(CHUNKER.max(), d.length - at));
      n++;
    }
    assertThat(at).isEqualTo(d.length);
    double avg = d.length / (double) n;
    assertThat(avg).isBetween(6_000.0, 16_000.0);
  }

  @Property(tries = 10)
  void the_boundaries_depend_on_the_key(@ForAll @LongRange(min = 1, max = 1_000_000) long seed) {
    byte[] d = data(seed, 400_000);
    byte[] other = new byte[32];
    other[0] = 1;
    Chunker c2 = new Chunker(other, 2048, 8192, 65536);
    List<Integer> cuts1 = new ArrayList<>();
    List<Integer> cuts2 = new ArrayList<>();
    for (int at = 0; at < d.length; ) {
      at += CHUNKER.cut(d, at, Math.min(CHUNKER.max(), d.length - at));
      cuts1.add(at);
    }
    for (int at = 0; at < d.length; ) {
      at += c2.cut(d, at, Math.min(c2.max(), d.length - at));
      cuts2.add(at);
    }
    assertThat(cuts1).isNotEqualTo(cuts2);
  }
}
