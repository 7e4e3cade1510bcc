package dev.pilothouse.tsdb.remote;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pilothouse.tsdb.Labels;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The remote-write protobuf encoding round-trips and rejects truncated input. */
class WriteRequestTest {
  @Test
  void roundTrips() {
    List<WriteRequest.TimeSeries> in =
        List.of(
            new WriteRequest.TimeSeries(
                Labels.of("__name__", "up", "job", "näive"),
                new long[] {1, 1_700_000_000_123L},
                new double[] {1, Double.NaN}),
            new WriteRequest.TimeSeries(
                Labels.of("__name__", "x"), new long[] {-5}, new double[] {-0.5}));
    List<WriteRequest.TimeSeries> out = WriteRequest.decode(WriteRequest.encode(in));
    assertThat(out).hasSize(2);
    assertThat(out.get(0).labels()).isEqualTo(in.get(0).labels());
    assertThat(out.get(0).t()).containsExactly(1, 1_700_000_000_123L);
    assertThat(out.get(0).v()[1]).isNaN();
    assertThat(out.get(1).t()).containsExactly(-5);
    assertThat(out.get(1).v()).containsExactly(-0.5);
  }

  @Test
  void aRequestInABufferUsedAgain_isReadToItsLength_andNotBeyond() {
    // The daemon decompresses each request into a buffer kept from an earlier, larger one: the
    // bytes after this request's length are the earlier request's and must not be read.
    byte[] earlier =
        WriteRequest.encode(
            List.of(
                new WriteRequest.TimeSeries(
                    Labels.of("__name__", "earlier", "i", "0"), new long[] {1}, new double[] {1}),
                new WriteRequest.TimeSeries(
                    Labels.of("__name__", "earlier", "i", "1"), new long[] {2}, new double[] {2})));
    byte[] now =
        WriteRequest.encode(
            List.of(
                new WriteRequest.TimeSeries(
                    Labels.of("__name__", "now"), new long[] {3, 4}, new double[] {3, 4})));
    assertThat(now.length).isLessThan(earlier.length);
    byte[] buffer = earlier.clone();
    System.arraycopy(now, 0, buffer, 0, now.length);
    List<String> seen = new java.util.ArrayList<>();
    WriteRequest.Decoder.Result r =
        new WriteRequest.Decoder(100)
            .decode(
                buffer,
                now.length,
                (labels, t, v, n) -> {
                  seen.add(labels + " " + n);
                  return labels;
                },
                null,
                10);
    assertThat(seen).containsExactly("now{} 2");
    assertThat(r.series()).isEqualTo(1);
    assertThatThrownBy(
            () ->
                new WriteRequest.Decoder(0)
                    .decode(buffer, buffer.length + 1, (l, t, v, n) -> l, null, 10))
        .isInstanceOf(IndexOutOfBoundsException.class);
  }

  @Test
  void samples_inAnyFieldOrder_decodeAsProtobufSays() {
    byte[] label = field(1, concat(field(1, ascii("__name__")), field(2, ascii("x"))));
    byte[] usual = concat(fixed64(1, 2.5), varintField(2, 1_700_000_000_123L));
    byte[] timeFirst = concat(varintField(2, 7), fixed64(1, -1.25));
    byte[] valueOnly = fixed64(1, 3);
    // A field repeated: the last one wins.
    byte[] repeated = concat(fixed64(1, 4), varintField(2, 8), varintField(2, 9), fixed64(1, 5));
    byte[] series =
        concat(
            label, field(2, usual), field(2, timeFirst), field(2, valueOnly), field(2, repeated));
    WriteRequest.TimeSeries out = WriteRequest.decode(field(1, series)).get(0);
    assertThat(out.t()).containsExactly(1_700_000_000_123L, 7, 0, 9);
    assertThat(out.v()).containsExactly(2.5, -1.25, 3, 5);
    byte[] cut = java.util.Arrays.copyOf(usual, 11); // value, timestamp tag, no timestamp
    assertThatThrownBy(() -> WriteRequest.decode(field(1, concat(label, field(2, cut)))))
        .hasMessageContaining("truncated");
  }

  private static byte[] ascii(String s) {
    return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  private static byte[] concat(byte[]... parts) {
    java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
    for (byte[] p : parts) {
      o.writeBytes(p);
    }
    return o.toByteArray();
  }

  private static byte[] varint(long v) {
    java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
    while ((v & ~0x7FL) != 0) {
      o.write((int) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    o.write((int) v);
    return o.toByteArray();
  }

  private static byte[] field(int number, byte[] message) {
    return concat(varint(number << 3 | 2), varint(message.length), message);
  }

  private static byte[] varintField(int number, long v) {
    return concat(varint(number << 3), varint(v));
  }

  private static byte[] fixed64(int number, double d) {
    byte[] b = new byte[8];
    java.nio.ByteBuffer.wrap(b)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN)
        .putLong(Double.doubleToRawLongBits(d));
    return concat(varint(number << 3 | 1), b);
  }

  @Test
  void truncatedInput_isAClearError() {
    byte[] b =
        WriteRequest.encode(
            List.of(
                new WriteRequest.TimeSeries(
                    Labels.of("__name__", "up"), new long[] {1}, new double[] {1})));
    byte[] cut = java.util.Arrays.copyOf(b, b.length - 3);
    assertThatThrownBy(() -> WriteRequest.decode(cut)).hasMessageContaining("truncated");
  }
}
