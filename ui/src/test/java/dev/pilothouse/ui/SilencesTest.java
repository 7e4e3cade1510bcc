package dev.pilothouse.ui;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class SilencesTest {
  private static final Instant NOW = Instant.parse("2026-11-30T12:00:00Z");

  @Test
  void matchersOfEveryKind_becomeAlertmanagersJson() {
    JsonNode s =
        Silences.of(
            "alertname=\"High, \\\"Errors\\\"\", service!=\"db\",instance=~\"shop-.*\", env!~\"dev|test\"",
            "90m",
            "",
            "ops",
            NOW);
    assertThat(s.path("matchers")).hasSize(4);
    JsonNode first = s.path("matchers").get(0);
    assertThat(first.path("name").asText()).isEqualTo("alertname");
    assertThat(first.path("value").asText()).isEqualTo("High, \"Errors\"");
    assertThat(first.path("isEqual").asBoolean()).isTrue();
    assertThat(first.path("isRegex").asBoolean()).isFalse();
    assertThat(s.path("matchers").get(1).path("isEqual").asBoolean()).isFalse();
    assertThat(s.path("matchers").get(2).path("isRegex").asBoolean()).isTrue();
    JsonNode last = s.path("matchers").get(3);
    assertThat(last.path("isRegex").asBoolean()).isTrue();
    assertThat(last.path("isEqual").asBoolean()).isFalse();
    assertThat(s.path("startsAt").asText()).isEqualTo("2026-11-30T12:00:00Z");
    assertThat(s.path("endsAt").asText()).isEqualTo("2026-11-30T13:30:00Z");
    assertThat(s.path("createdBy").asText()).isEqualTo("ops");
    assertThat(s.path("comment").asText()).isEqualTo("silenced from the dashboard");
  }

  @Test
  void badMatchersAndDurations_nameTheFieldAndHowToWriteIt() {
    assertThatThrownBy(() -> Silences.of("", "1h", "", "ops", NOW))
        .isInstanceOf(Dashboard.BadInput.class)
        .hasMessageStartingWith("matchers: at least one");
    assertThatThrownBy(() -> Silences.of("alertname=High", "1h", "", "ops", NOW))
        .isInstanceOf(Dashboard.BadInput.class)
        .hasMessage("matchers: cannot read 'alertname=High'");
    assertThatThrownBy(() -> Silences.of("a=\"b\" c=\"d\"", "1h", "", "ops", NOW))
        .hasMessage("matchers: a comma is missing before 'c=\"d\"'");
    assertThatThrownBy(() -> Silences.of("a=\"b\"", "soon", "", "ops", NOW))
        .hasMessage("duration: 'soon' is not a duration");
    assertThatThrownBy(() -> Silences.of("a=\"b\"", "0m", "", "ops", NOW))
        .hasMessage("duration: 0m is out of range");
    assertThatThrownBy(() -> Silences.of("a=\"b\"", "400d", "", "ops", NOW))
        .hasMessage("duration: 400d is out of range");
  }
}
