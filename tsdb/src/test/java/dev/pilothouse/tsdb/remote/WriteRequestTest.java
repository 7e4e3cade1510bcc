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
