package dev.pilothouse.tsdb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pilothouse.tsdb.remote.WriteRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Samples and series that would harm the store are refused, counted and named. */
class IngestLimitsTest {
  @TempDir Path dir;

  static final long NOW = Instant.parse("2026-11-29T06:00:00Z").toEpochMilli();
  static final long YEAR_2100 = Instant.parse("2100-01-01T00:00:00Z").toEpochMilli();

  @Test
  void sampleFarInTheFuture_isRefusedAndCounted_andNeverReplayed() {
    Labels up = Labels.of("__name__", "up", "job", "a");
    try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults())) {
      db.limitFuture(InstantSource.fixed(Instant.ofEpochMilli(NOW)), 600_000);
      Tsdb.CommitResult r = db.appender().add(up, YEAR_2100, 1).add(up, NOW, 1).commit();
      assertThat(r.appended()).isEqualTo(1);
      assertThat(r.rejected()).isEqualTo(1);
      assertThat(r.firstError()).contains("too far in the future").contains("600s");
      // within the tolerance is fine
      assertThat(db.appender().add(up, NOW + 599_000, 2).commit().appended()).isEqualTo(1);
      assertThat(db.refused().get(Tsdb.Refusal.TOO_FAR_IN_FUTURE)).isEqualTo(1);
    }
    try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults())) {
      Series s =
          db.select(0, Long.MAX_VALUE, List.of(Matcher.eq("job", "a")), QueryBudget.unlimited())
              .get(0);
      assertThat(s.t()).containsExactly(NOW, NOW + 599_000);
    }
  }

  @Test
  void labelLimits_nameWhatIsWrong() {
    LabelLimits l = new LabelLimits(4, 10, 20);
    assertThat(l.check(Labels.of("__name__", "up", "job", "x"))).isNull();
    assertThat(l.check(Labels.of("__name__", "up", "a", "1", "b", "2", "c", "3", "d", "4")))
        .contains("5 labels, more than the limit of 4");
    assertThat(l.check(Labels.of("__name__", "up", "bad-name", "x")))
        .contains("invalid label name 'bad-name'");
    assertThat(l.check(Labels.of("__name__", "up", "0a", "x"))).contains("invalid label name");
    assertThat(l.check(Labels.of("__name__", "up", "averyverylongname", "x")))
        .contains("longer than the limit of 10");
    assertThat(l.check(Labels.of("__name__", "up", "a", "x".repeat(21))))
        .contains("21 characters, more than the limit of 20");
    assertThat(l.check(Labels.of("__name__", "1up"))).contains("invalid metric name");
    assertThat(l.check(Labels.of("job", "x"))).contains("no metric name");
    assertThat(l.check(Labels.of("__name__", "ns:up"))).isNull();
  }

  @Test
  void remoteWrite_refusesSeriesWithBadLabels_andHandsOnTheRest() {
    List<WriteRequest.TimeSeries> in =
        List.of(
            ts(Labels.of("__name__", "ok", "job", "a")),
            ts(Labels.of("__name__", "bad", "bad-label", "a")),
            ts(Labels.of("__name__", "long", "job", "x".repeat(5000))),
            ts(Labels.of("__name__", "ok", "job", "b")));
    byte[] body = WriteRequest.encode(in);
    for (int cache : new int[] {0, 1000}) {
      WriteRequest.Decoder d = new WriteRequest.Decoder(cache);
      for (int round = 0; round < 2; round++) {
        List<Labels> got = new ArrayList<>();
        WriteRequest.Decoder.Result r =
            d.decode(
                body,
                (labels, t, v, n) -> {
                  got.add(labels);
                  return labels;
                },
                LabelLimits.defaults(),
                100);
        assertThat(got)
            .as("cache %d, round %d", cache, round)
            .containsExactly(in.get(0).labels(), in.get(3).labels());
        assertThat(r.series()).isEqualTo(4);
        assertThat(r.invalid()).isEqualTo(2);
        assertThat(r.firstInvalid()).contains("invalid label name 'bad-label'");
      }
    }
    assertThatThrownBy(
            () ->
                new WriteRequest.Decoder(0)
                    .decode(body, (l, t, v, n) -> l, LabelLimits.defaults(), 3))
        .hasMessageContaining("more than 3 series");
  }

  @Test
  void remoteWrite_refusesDuplicateLabelNamesAndInvalidUtf8() {
    byte[] dup = WriteRequest.encode(List.of(ts(Labels.of("__name__", "x", "a", "1"))));
    // Rewrite the label "a" as a second "__name__"-free duplicate: append another label a="2".
    byte[] twice = withExtraLabel(dup, "a", "2".getBytes(StandardCharsets.UTF_8));
    WriteRequest.Decoder.Result r =
        new WriteRequest.Decoder(0).decode(twice, (l, t, v, n) -> l, LabelLimits.defaults(), 100);
    assertThat(r.invalid()).isEqualTo(1);
    assertThat(r.firstInvalid()).contains("appears twice");
    byte[] notUtf8 = withExtraLabel(dup, "b", new byte[] {(byte) 0xC3, (byte) 0x28});
    r = new WriteRequest.Decoder(0).decode(notUtf8, (l, t, v, n) -> l, LabelLimits.defaults(), 100);
    assertThat(r.firstInvalid()).contains("not valid UTF-8");
  }

  private static WriteRequest.TimeSeries ts(Labels l) {
    return new WriteRequest.TimeSeries(l, new long[] {1000}, new double[] {1});
  }

  /** The request with one more label field appended to its only TimeSeries message. */
  private static byte[] withExtraLabel(byte[] req, String name, byte[] value) {
    java.io.ByteArrayOutputStream label = new java.io.ByteArrayOutputStream();
    field(label, 1, name.getBytes(StandardCharsets.UTF_8));
    field(label, 2, value);
    java.io.ByteArrayOutputStream series = new java.io.ByteArrayOutputStream();
    // the TimeSeries message body: skip the outer tag and length (one byte each for small input)
    series.write(req, 2, req.length - 2);
    field(series, 1, label.toByteArray());
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    field(out, 1, series.toByteArray());
    return out.toByteArray();
  }

  private static void field(java.io.ByteArrayOutputStream o, int f, byte[] b) {
    o.write((f << 3) | 2);
    o.write(b.length);
    o.writeBytes(b);
  }
}
