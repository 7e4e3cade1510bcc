package dev.pilothouse.tsdb;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.tsdb.promql.Engine;
import dev.pilothouse.tsdb.promql.EvalException;
import dev.pilothouse.tsdb.promql.ParseException;
import dev.pilothouse.tsdb.promql.Parser;
import dev.pilothouse.tsdb.promql.Value;
import dev.pilothouse.tsdb.remote.WriteRequest;
import dev.pilothouse.tsdb.scrape.Exposition;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * What users and networks feed the store, mutated at random: every input ends in a result or the
 * parser's own clear error, never another exception, a hang or a result beyond the limits.
 */
class FuzzTest {
  static final List<String> QUERIES =
      List.of(
          "up",
          "sum by (job) (rate(http_requests_total{code=~\"5..\"}[5m]))",
          "histogram_quantile(0.99, sum by (le) (rate(latency_bucket[1m])))",
          "max_over_time(vector(1)[1h:1m])",
          "x offset 5m @ 1000",
          "topk(3, up) or on(job) vector(0)",
          "count_over_time(up[10m:30s]) > bool 2",
          "label_replace(up, \"a\", \"$1\", \"job\", \"(.*)\")",
          "-(1 + 2) * 3 ^ 2 % 5",
          "absent(nope{a!~\"b|c\"})");

  static final String TOKENS = "(){}[],:=~!\"'+-*/^%@ 0123456789.sumratebyjobupxoffset5m1h1ms";

  @Provide
  Arbitrary<String> promql() {
    Arbitrary<String> mutated =
        Combinators.combine(
                Arbitraries.of(QUERIES),
                Arbitraries.integers().between(0, 200),
                Arbitraries.integers().between(0, 4),
                Arbitraries.strings().withChars(TOKENS).ofMaxLength(6))
            .as(
                (q, at, cut, insert) -> {
                  int p = Math.min(at, q.length());
                  int end = Math.min(q.length(), p + cut);
                  return q.substring(0, p) + insert + q.substring(end);
                });
    Arbitrary<String> random = Arbitraries.strings().withChars(TOKENS).ofMaxLength(60);
    return Arbitraries.oneOf(mutated, random);
  }

  @Property(tries = 1500)
  void promqlStrings_parseOrFailClearly_andEvaluateWithinLimits(@ForAll("promql") String q) {
    long[] t = new long[200];
    double[] v = new double[200];
    for (int i = 0; i < t.length; i++) {
      t[i] = i * 15_000L;
      v[i] = i;
    }
    List<Series> data =
        List.of(
            new Series(Labels.of("__name__", "up", "job", "a"), t, v),
            new Series(
                Labels.of("__name__", "http_requests_total", "code", "500", "job", "b"), t, v));
    Engine e =
        new Engine(
            (mint, maxt, ms, budget) -> {
              List<Series> out = new ArrayList<>();
              for (Series s : data) {
                if (ms.stream().allMatch(m -> m.matches(s.labels().get(m.name())))) {
                  budget.charge(s.size());
                  out.add(s);
                }
              }
              return out;
            },
            Engine.Options.defaults().withLimits(100_000, 2_000, 4));
    try {
      Parser.parse(q);
    } catch (ParseException expected) {
      return;
    }
    try {
      Value r = e.instant(q, 3_000_000);
      assertThat(r).isNotNull();
      Value.Matrix m = e.range(q, 0, 3_000_000, 60_000);
      m.series().forEach(s -> assertThat(s.t().length).isLessThanOrEqualTo(11_000));
    } catch (ParseException | EvalException | QueryLimitException expected) {
      // a clear refusal
    }
  }

  @Provide
  Arbitrary<String> exposition() {
    String valid =
        "# HELP http_requests_total Requests.\n# TYPE http_requests_total counter\n"
            + "http_requests_total{code=\"200\",path=\"/a\"} 1027 1395066363000\n"
            + "latency_bucket{le=\"0.1\"} 3\nlatency_bucket{le=\"+Inf\"} 5\nup 1\n";
    return Combinators.combine(
            Arbitraries.integers().between(0, valid.length()),
            Arbitraries.integers().between(0, 5),
            Arbitraries.strings().withChars("{}\"=, \n\\#abc01.e+-:").ofMaxLength(8))
        .as(
            (at, cut, ins) ->
                valid.substring(0, at) + ins + valid.substring(Math.min(valid.length(), at + cut)));
  }

  @Property(tries = 1500)
  void expositionText_parsesOrNamesTheLine(@ForAll("exposition") String text) {
    try {
      Exposition.Result r = Exposition.parse(text, false, new Exposition.Limits(4096, 50));
      r.samples().forEach(s -> assertThat(s.labels().get(Labels.NAME)).isNotEmpty());
    } catch (Exposition.FormatException e) {
      assertThat(e.getMessage()).startsWith("line ");
    } catch (Exposition.LimitException e) {
      assertThat(e.getMessage()).contains("limit exceeded");
    }
  }

  @Provide
  Arbitrary<byte[]> writeRequests() {
    byte[] valid =
        WriteRequest.encode(
            List.of(
                new WriteRequest.TimeSeries(
                    Labels.of("__name__", "up", "job", "a"),
                    new long[] {1, 2},
                    new double[] {1, 0}),
                new WriteRequest.TimeSeries(
                    Labels.of("__name__", "x", "le", "+Inf"), new long[] {5}, new double[] {3})));
    Arbitrary<byte[]> mutated =
        Combinators.combine(
                Arbitraries.integers().between(0, valid.length - 1),
                Arbitraries.integers().between(0, 255),
                Arbitraries.integers().between(0, valid.length))
            .as(
                (at, b, cut) -> {
                  byte[] m = java.util.Arrays.copyOf(valid, Math.max(1, cut));
                  if (at < m.length) {
                    m[at] = (byte) b.intValue();
                  }
                  return m;
                });
    Arbitrary<byte[]> random = Arbitraries.bytes().array(byte[].class).ofMaxSize(200);
    return Arbitraries.oneOf(mutated, random);
  }

  @Property(tries = 2000)
  void remoteWriteBodies_decodeOrAreRefused(@ForAll("writeRequests") byte[] body) {
    try {
      WriteRequest.Decoder.Result r =
          new WriteRequest.Decoder(100)
              .decode(
                  body,
                  (labels, t, v, n) -> {
                    assertThat(LabelLimits.defaults().check(labels)).isNull();
                    assertThat(n).isLessThanOrEqualTo(body.length);
                    return labels;
                  },
                  LabelLimits.defaults(),
                  1000);
      assertThat(r.series()).isLessThanOrEqualTo(body.length);
    } catch (WriteRequest.DecodeException expected) {
      assertThat(expected.getMessage()).isNotBlank();
    }
  }
}
