package dev.pilothouse.tsdb;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.ref.WeakReference;
import org.junit.jupiter.api.Test;

/** Buffers kept between uses: handed back, bounded, and let go of when unused at a collection. */
class SparesTest {
  @Test
  void givenBuffers_areTakenBack_atMostAsManyAsAllowed() {
    Spares<byte[]> spares = new Spares<>(2);
    byte[] a = new byte[16];
    byte[] b = new byte[16];
    byte[] c = new byte[16];
    spares.give(a);
    spares.give(b);
    spares.give(c); // a third: not kept
    byte[] first = spares.take();
    byte[] second = spares.take();
    assertThat(first).isSameAs(a);
    assertThat(second).isSameAs(b);
    assertThat(spares.take()).isNull();
  }

  @Test
  void aBufferNobodyUses_isFreedByTheCollector() {
    Spares<byte[]> spares = new Spares<>(2);
    byte[] big = new byte[8 << 20];
    WeakReference<byte[]> watch = new WeakReference<>(big);
    spares.give(big);
    big = null;
    for (int i = 0; i < 20 && watch.get() != null; i++) {
      System.gc();
    }
    assertThat(watch.get()).as("freed at a collection").isNull();
    assertThat(spares.take()).isNull();
  }
}
