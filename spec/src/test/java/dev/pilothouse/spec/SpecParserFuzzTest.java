package dev.pilothouse.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/** Arbitrary input never crashes or hangs the parser and always yields a clear error. */
class SpecParserFuzzTest {
  static final String VALID =
      "version: 1\n"
          + "services:\n"
          + "  shop:\n"
          + "    command: ./server\n"
          + "    args: [--port, '${PORT}']\n"
          + "    replicas: 3\n"
          + "    env: {MODE: fast}\n"
          + "    readiness: {http: /readyz, interval: 1s}\n"
          + "    liveness:\n"
          + "      tcp: true\n"
          + "      failureThreshold: 3\n"
          + "    restart: {policy: always, initialBackoff: 250ms, maxBackoff: 30s}\n"
          + "    stop: {signal: TERM, timeout: 10s}\n"
          + "    resources: {cpu: 500m, memory: 256Mi}\n";

  static ParsedSpec parseBounded(String text) {
    return assertTimeoutPreemptively(
        Duration.ofSeconds(5),
        () -> SpecParser.parse("fuzz.yaml", text, Path.of("/tmp"), Map.of()));
  }

  static void assertClear(ParsedSpec r, String text) {
    assertThat(r.valid() ^ !r.errors().isEmpty()).isTrue();
    // Line breaks as YAML counts them: \n, \r\n, a lone \r and NEL (U+0085; the generator's
    // chars reach 0xFF).
    int lines = text.replace("\r\n", "\n").split("[\n\r\u0085]", -1).length + 1;
    for (SpecError e : r.errors()) {
      assertThat(e.line()).isBetween(1, lines);
      assertThat(e.column()).isGreaterThanOrEqualTo(1);
      assertThat(e.message()).isNotBlank();
      assertThat(e.toString()).startsWith("fuzz.yaml:" + e.line() + ":" + e.column() + ": ");
      assertThat(e.message()).doesNotContain("Exception").doesNotContain("\tat ");
    }
  }

  @Property(tries = 400)
  void arbitraryText_neverCrashes(@ForAll("yamlish") String text) {
    assertClear(parseBounded(text), text);
  }

  @Property(tries = 400)
  void mutatedValidSpec_neverCrashes(@ForAll("mutations") String text) {
    assertClear(parseBounded(text), text);
  }

  @Provide
  Arbitrary<String> yamlish() {
    return Arbitraries.strings()
        .withChars(" \n\t:-[]{}'\"#&*!|>%@`,?$~0123456789abcdefsrvicmnpl.")
        .withCharRange('\u0000', '\u00ff')
        .ofMaxLength(300);
  }

  @Provide
  Arbitrary<String> mutations() {
    Arbitrary<Integer> pos = Arbitraries.integers().between(0, VALID.length() - 1);
    Arbitrary<String> insert =
        Arbitraries.strings().withChars(" \n:-[]{}'\"#&*!|>,$~01a").ofMinLength(0).ofMaxLength(6);
    Arbitrary<Integer> cut = Arbitraries.integers().between(0, 8);
    return Arbitraries.of(1, 2, 3, 4)
        .flatMap(
            n ->
                net.jqwik.api.Combinators.combine(
                        pos.list().ofSize(n), insert.list().ofSize(n), cut.list().ofSize(n))
                    .as(Tuple::of))
        .map(
            t -> {
              StringBuilder b = new StringBuilder(VALID);
              for (int i = 0; i < t.get1().size(); i++) {
                int p = Math.min(t.get1().get(i), b.length());
                int end = Math.min(b.length(), p + t.get3().get(i));
                b.replace(p, end, t.get2().get(i));
              }
              return b.toString();
            });
  }

  @Example
  void validSpec_parses() {
    assertThat(parseBounded(VALID).valid()).isTrue();
  }

  @Example
  void billionLaughs_isRefusedQuickly() {
    StringBuilder b = new StringBuilder("a: &a [x,x,x,x,x,x,x,x,x]\n");
    char prev = 'a';
    for (char c = 'b'; c <= 'k'; c++) {
      b.append(c).append(": &").append(c).append(" [");
      for (int i = 0; i < 9; i++) {
        b.append(i == 0 ? "" : ",").append('*').append(prev);
      }
      b.append("]\n");
      prev = c;
    }
    ParsedSpec r = parseBounded(b.toString());
    assertThat(r.valid()).isFalse();
    assertClear(r, b.toString());
  }

  @Example
  void deepNesting_isRefusedWithAnError() {
    String text = "services: " + "[".repeat(5000) + "]".repeat(5000) + "\n";
    ParsedSpec r = parseBounded(text);
    assertThat(r.valid()).isFalse();
    assertClear(r, text);
  }

  @Example
  void hugeFile_isRefused() {
    String text = "# " + "x".repeat(SpecParser.MAX_BYTES + 1) + "\n";
    ParsedSpec r = parseBounded(text);
    assertThat(r.errors().get(0).message()).contains("larger than 1 MiB");
  }
}
