package dev.pilothouse.spec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.core.spec.ChaosSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.util.EnumSet;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The chaos: section: allowed hours, the error-budget leash, game days (files checked), monkey. */
class ChaosSpecTest {
  @TempDir Path dir;

  private ParsedSpec parse(String yaml) {
    return SpecParser.parse(
        "shop.yaml", yaml, dir, Map.of(), dev.pilothouse.tsdb.promql.Parser::problem);
  }

  @Test
  void aFullSection_isRead_andTheGameDaysFileIsCheckedNow() throws IOException {
    Files.createDirectories(dir.resolve("chaos"));
    Files.writeString(
        dir.resolve("chaos/kill.yaml"),
        "name: kill\ntarget: {service: shop}\nfaults: [{kill: {}}]\n");
    ParsedSpec p =
        parse(
            SpecParserTest.svc("")
                + "chaos:\n"
                + "  allowedHours: {days: [tue, wed], from: '22:00', to: '02:00', timezone: Europe/Berlin}\n"
                + "  minErrorBudget: 0.5\n"
                + "  gameDays:\n"
                + "    - {experiment: chaos/kill.yaml, schedule: '0 23 * * TUE'}\n"
                + "  monkey:\n"
                + "    - {service: shop, meanTimeBetweenKills: 30m, maxConcurrent: 2, signal: SIGTERM}\n"
                + "  clock: [shop]\n");
    assertThat(p.errors()).isEmpty();
    ChaosSpec c = p.spec().orElseThrow().chaos();
    assertThat(c.enabled()).isTrue();
    assertThat(c.allowedHours())
        .isEqualTo(
            new ChaosSpec.AllowedHours(
                EnumSet.of(DayOfWeek.TUESDAY, DayOfWeek.WEDNESDAY),
                LocalTime.of(22, 0),
                LocalTime.of(2, 0),
                "Europe/Berlin"));
    // Across midnight, in Berlin's time: Tuesday 23:30 CET is in, Tuesday 21:00 is not.
    assertThat(c.allowedHours().allows(Instant.parse("2026-12-01T22:30:00Z"))).isTrue();
    assertThat(c.allowedHours().allows(Instant.parse("2026-12-01T20:00:00Z"))).isFalse();
    assertThat(c.allowedHours().allows(Instant.parse("2026-12-02T00:30:00Z"))).isTrue();
    assertThat(c.minErrorBudget()).isEqualTo(0.5);
    assertThat(c.gameDays())
        .containsExactly(
            new ChaosSpec.GameDay(dir.resolve("chaos/kill.yaml").toString(), "0 23 * * TUE"));
    assertThat(c.monkey())
        .containsExactly(new ChaosSpec.Monkey("shop", Duration.ofMinutes(30), 2, true));
    assertThat(c.clock()).containsExactly("shop");
  }

  @Test
  void withoutTheSection_chaosRunsByHandOnly_inBusinessHours() {
    ChaosSpec c = parse(SpecParserTest.svc("")).spec().orElseThrow().chaos();
    assertThat(c).isEqualTo(ChaosSpec.none());
    assertThat(c.allowedHours().allows(Instant.parse("2026-12-01T10:00:00Z"))).isTrue(); // Tue
    assertThat(c.allowedHours().allows(Instant.parse("2026-12-05T10:00:00Z"))).isFalse(); // Sat
    assertThat(c.allowedHours().allows(Instant.parse("2026-12-01T17:00:00Z"))).isFalse();
  }

  @Test
  void mistakes_areReportedWhereTheyAre_includingTheExperimentFilesOwn() throws IOException {
    Files.writeString(dir.resolve("bad.yaml"), "name: bad\ntarget: {service: shop}\n");
    Files.writeString(
        dir.resolve("other.yaml"), "name: o\ntarget: {service: api}\nfaults: [{kill: {}}]\n");
    ParsedSpec p =
        parse(
            SpecParserTest.svc("")
                + "chaos:\n"
                + "  allowedHours: {days: [funday], from: '25:00', timezone: Mars/Olympus}\n"
                + "  gameDays:\n"
                + "    - {experiment: missing.yaml, schedule: '0 10 * * TUE'}\n"
                + "    - {experiment: bad.yaml, schedule: 'every tuesday'}\n"
                + "    - {experiment: other.yaml, schedule: '0 10 * * *'}\n"
                + "  monkey:\n"
                + "    - {service: shoop, meanTimeBetweenKills: 10s}\n"
                + "  clock: [shpo]\n");
    assertThat(p.spec()).isEmpty();
    assertThat(p.errors().stream().map(SpecError::toString))
        .anySatisfy(s -> assertThat(s).startsWith("shop.yaml:5:").contains("unknown day 'funday'"))
        .anySatisfy(s -> assertThat(s).startsWith("shop.yaml:5:").contains("'25:00' is not a time"))
        .anySatisfy(s -> assertThat(s).startsWith("shop.yaml:5:").contains("unknown time zone"))
        .anySatisfy(
            s -> assertThat(s).startsWith("shop.yaml:7:").contains("cannot read experiment file"))
        .anySatisfy(s -> assertThat(s).startsWith("shop.yaml:8:").contains("invalid schedule"))
        .anySatisfy(
            s ->
                assertThat(s)
                    .startsWith("shop.yaml:8:")
                    .contains("the first: bad.yaml:1:1: faults: missing"))
        .anySatisfy(s -> assertThat(s).startsWith("shop.yaml:9:").contains("targets service 'api'"))
        .anySatisfy(
            s ->
                assertThat(s)
                    .startsWith("shop.yaml:11:")
                    .contains("no service 'shoop'")
                    .contains("did you mean 'shop'?"))
        .anySatisfy(s -> assertThat(s).startsWith("shop.yaml:11:").contains("at least 1m"))
        .anySatisfy(
            s ->
                assertThat(s)
                    .startsWith("shop.yaml:12:")
                    .contains("chaos.clock[0]: no service 'shpo'")
                    .contains("did you mean 'shop'?"));
  }
}
