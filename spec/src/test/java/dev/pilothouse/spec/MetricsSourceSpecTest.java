package dev.pilothouse.spec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.core.spec.MetricsSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** metrics.source: an external Prometheus-compatible API for the daemon's own queries. */
class MetricsSourceSpecTest {
  @TempDir Path dir;

  private ParsedSpec parse(String yaml) {
    return SpecParser.parse(
        "shop.yaml", yaml, dir, Map.of(), dev.pilothouse.tsdb.promql.Parser::problem);
  }

  @Test
  void aSource_isRead_withItsTokenFileRelativeToTheSpec() throws Exception {
    Files.writeString(dir.resolve("vm-token"), "t0ken\n");
    MetricsSpec m =
        parse(
                SpecParserTest.svc("")
                    + "metrics:\n  source: {url: 'http://vm:8428/prometheus', bearerTokenFile:"
                    + " vm-token, timeout: 3s, headers: {X-Scope-OrgID: shop}}\n")
            .spec()
            .orElseThrow()
            .metrics();
    assertThat(m.source())
        .isEqualTo(
            new MetricsSpec.Source(
                "http://vm:8428/prometheus",
                dir.resolve("vm-token").toString(),
                Duration.ofSeconds(3),
                Map.of("X-Scope-OrgID", "shop")));
    assertThat(m.source().external()).isTrue();
    assertThat(parse(SpecParserTest.svc("")).spec().orElseThrow().metrics().source())
        .isEqualTo(MetricsSpec.Source.BUILT_IN);
  }

  @Test
  void mistakes_areNamedWhereTheyAre() {
    ParsedSpec p =
        parse(
            SpecParserTest.svc("")
                + "metrics:\n"
                + "  source:\n"
                + "    url: 'http://user:pw@prom:9090'\n"
                + "    bearerTokenFile: nope\n"
                + "    timeout: 10m\n"
                + "    tiemout: 1s\n"
                + "    headers: {Authorization: 'Basic x'}\n");
    assertThat(p.spec()).isEmpty();
    assertThat(p.errors().stream().map(SpecError::toString))
        .anySatisfy(
            s ->
                assertThat(s)
                    .startsWith("shop.yaml:6:")
                    .contains("metrics.source.url")
                    .contains("without credentials")
                    .contains("bearerTokenFile"))
        .anySatisfy(
            s ->
                assertThat(s)
                    .startsWith("shop.yaml:7:")
                    .contains("metrics.source.bearerTokenFile")
                    .contains("does not exist"))
        .anySatisfy(
            s ->
                assertThat(s)
                    .startsWith("shop.yaml:8:")
                    .contains("metrics.source.timeout: must be between 100ms and 5m"))
        .anySatisfy(s -> assertThat(s).startsWith("shop.yaml:9:").contains("tiemout"))
        .anySatisfy(
            s ->
                assertThat(s)
                    .startsWith("shop.yaml:10:")
                    .contains("metrics.source.headers.Authorization")
                    .contains("use bearerTokenFile"));
    assertThat(
            parse(SpecParserTest.svc("") + "metrics:\n  source: {timeout: 1s}\n")
                .errors()
                .get(0)
                .toString())
        .contains("metrics.source")
        .contains("url");
  }
}
