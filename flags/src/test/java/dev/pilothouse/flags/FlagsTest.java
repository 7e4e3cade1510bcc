package dev.pilothouse.flags;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.flags.Flag;
import dev.pilothouse.core.flags.FlagChange;
import dev.pilothouse.core.flags.FlagRepository;
import dev.pilothouse.core.flags.FlagRollout;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class FlagsTest {
  final List<NewEvent> events = new ArrayList<>();
  final MemoryRepo repo = new MemoryRepo();
  final Flags flags = new Flags(repo, events::add, () -> Instant.parse("2026-11-29T12:00:00Z"));

  static Flag checkout(boolean enabled, List<Flag.Rule> rules) {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("on", true);
    v.put("off", false);
    return new Flag("new-checkout", Flag.Type.BOOLEAN, v, "off", null, enabled, rules, "");
  }

  static Flag.Rule staff() {
    return new Flag.Rule(
        "staff",
        List.of(new Flag.Condition("email", Flag.Condition.Op.ENDS_WITH, List.of("@example.com"))),
        "on",
        null);
  }

  static Flag.Rule split(int on) {
    Map<String, Integer> s = new LinkedHashMap<>();
    s.put("on", on);
    s.put("off", 100 - on);
    return new Flag.Rule("rollout", List.of(), null, s);
  }

  @Test
  void targeting_thenSplit_thenDefault_withOpenFeatureReasons() {
    flags.put(checkout(true, List.of(staff(), split(20))), "cli");
    Evaluator.Result staffer =
        flags.evaluate("new-checkout", Map.of("email", "ann@example.com", "targetingKey", "ann"));
    assertThat(staffer.value()).isEqualTo(true);
    assertThat(staffer.reason()).isEqualTo("TARGETING_MATCH");
    int on = 0;
    for (int i = 0; i < 10_000; i++) {
      Evaluator.Result r = flags.evaluate("new-checkout", Map.of("targetingKey", "user-" + i));
      assertThat(r.reason()).isEqualTo("SPLIT");
      on += Boolean.TRUE.equals(r.value()) ? 1 : 0;
    }
    assertThat(on).as("20 %% of 10,000 users").isBetween(1_850, 2_150);
    assertThat(flags.evaluate("new-checkout", Map.of()).errorCode())
        .as("a split needs a targeting key")
        .isEqualTo("TARGETING_KEY_MISSING");
    flags.put(checkout(true, List.of(staff())), "cli");
    assertThat(flags.evaluate("new-checkout", Map.of("email", "bob@else.org")).reason())
        .isEqualTo("DEFAULT");
  }

  @Test
  void widerSplit_keepsEveryoneWhoHadTheNewVariant() {
    flags.put(checkout(true, List.of(split(10))), "cli");
    List<String> had = new ArrayList<>();
    for (int i = 0; i < 2_000; i++) {
      if (Boolean.TRUE.equals(
          flags.evaluate("new-checkout", Map.of("targetingKey", "u" + i)).value())) {
        had.add("u" + i);
      }
    }
    flags.put(checkout(true, List.of(split(30))), "cli");
    assertThat(had)
        .isNotEmpty()
        .allSatisfy(
            u ->
                assertThat(flags.evaluate("new-checkout", Map.of("targetingKey", u)).value())
                    .isEqualTo(true));
  }

  @Test
  void killSwitch_servesTheOffVariant_withReasonDisabled_andIsAnEvent() {
    flags.put(checkout(true, List.of(staff())), "cli");
    flags.put(checkout(false, List.of(staff())), "cli");
    Evaluator.Result r = flags.evaluate("new-checkout", Map.of("email", "ann@example.com"));
    assertThat(r.value()).isEqualTo(false);
    assertThat(r.reason()).isEqualTo("DISABLED");
    assertThat(events)
        .extracting(NewEvent::message)
        .containsExactly(
            "flag new-checkout created (by cli)",
            "flag new-checkout disabled (kill switch) (by cli)");
    assertThat(flags.history("new-checkout", 10)).hasSize(2);
  }

  @Test
  void invalidFlag_isRefusedWithEveryProblem_andNothingChanges() {
    Map<String, Integer> bad = new LinkedHashMap<>();
    bad.put("on", 60);
    bad.put("maybe", 60);
    Flag f =
        checkout(
            true,
            List.of(
                new Flag.Rule("r", List.of(), null, bad),
                new Flag.Rule(
                    "m",
                    List.of(new Flag.Condition("email", Flag.Condition.Op.MATCHES, List.of("a(b"))),
                    "on",
                    null)));
    assertThatThrownBy(() -> flags.put(f, "api"))
        .isInstanceOfSatisfying(
            Flags.InvalidFlagException.class,
            e ->
                assertThat(e.problems())
                    .contains(
                        "rules[0].split: no variant named 'maybe'",
                        "rules[0].split: the percentages add up to 120, not 100")
                    .anyMatch(
                        p -> p.startsWith("rules[1].when[0].values: invalid regular expression")));
    assertThat(flags.list()).isEmpty();
    assertThat(events).isEmpty();
  }

  @Test
  void specFlags_areCreated_thenLeftToTheCli_untilTheSpecChangesThem() {
    flags.sync(List.of(checkout(true, List.of())), () -> 1);
    flags.put(checkout(false, List.of()), "cli"); // the kill switch, by hand
    flags.sync(List.of(checkout(true, List.of())), () -> 2); // the same spec applied again
    assertThat(flags.get("new-checkout").orElseThrow().enabled())
        .as("the CLI's change stays")
        .isFalse();
    flags.sync(List.of(checkout(true, List.of(staff()))), () -> 3); // the spec's definition changed
    assertThat(flags.get("new-checkout").orElseThrow().enabled()).isTrue();
    assertThat(flags.history("new-checkout", 10))
        .extracting(FlagChange::source)
        .containsExactly("spec r3", "cli", "spec r1");
  }

  @Test
  void ofrep_answersAsTheProtocolSays() throws Exception {
    flags.put(checkout(true, List.of(staff())), "cli");
    Ofrep ofrep = new Ofrep(flags);
    Ofrep.Response ok =
        ofrep.evaluate(
            "new-checkout",
            "{\"context\": {\"targetingKey\": \"ann\", \"email\": \"ann@example.com\"}}"
                .getBytes(StandardCharsets.UTF_8));
    assertThat(ok.status()).isEqualTo(200);
    assertThat(ok.body().toString())
        .isEqualTo(
            "{\"key\":\"new-checkout\",\"value\":true,\"reason\":\"TARGETING_MATCH\",\"variant\":\"on\",\"metadata\":{}}");
    Ofrep.Response missing = ofrep.evaluate("nope", "{}".getBytes(StandardCharsets.UTF_8));
    assertThat(missing.status()).isEqualTo(404);
    assertThat(missing.body().path("errorCode").asText()).isEqualTo("FLAG_NOT_FOUND");
    Ofrep.Response garbage = ofrep.evaluate("new-checkout", "{".getBytes(StandardCharsets.UTF_8));
    assertThat(garbage.status()).isEqualTo(400);
    assertThat(garbage.body().path("errorCode").asText()).isEqualTo("INVALID_CONTEXT");
    Ofrep.Response bulk = ofrep.bulk("{\"context\": {}}".getBytes(StandardCharsets.UTF_8), null);
    assertThat(bulk.status()).isEqualTo(200);
    JsonNode all = bulk.body().path("flags");
    assertThat(all).hasSize(1);
    assertThat(
            ofrep.bulk("{\"context\": {}}".getBytes(StandardCharsets.UTF_8), bulk.etag()).status())
        .as("unchanged: 304 for the same ETag")
        .isEqualTo(304);
  }

  @Test
  void flagJson_roundTrips_andNamesEveryProblem() throws Exception {
    Flag f = checkout(true, List.of(staff(), split(25)));
    assertThat(FlagJson.read("new-checkout", FlagJson.write(f))).isEqualTo(f);
    JsonNode bad =
        FlagJson.JSON.readTree(
            "{\"type\": \"colour\", \"enabled\": \"yes\", \"rules\": [{\"when\": [{\"attribute\":"
                + " \"x\", \"op\": \"near\"}]}], \"surprise\": 1}");
    assertThatThrownBy(() -> FlagJson.read("k", bad))
        .isInstanceOfSatisfying(
            Flags.InvalidFlagException.class,
            e ->
                assertThat(e.problems())
                    .anyMatch(p -> p.startsWith("surprise: unknown field"))
                    .contains(
                        "type: must be boolean, string, number or object",
                        "enabled: must be true or false")
                    .anyMatch(p -> p.startsWith("rules[0].when[0].op: 'near' is not one of")));
  }

  /** The store, in memory (the SQLite one is tested in the store module). */
  static final class MemoryRepo implements FlagRepository {
    final Map<String, Flag> flags = new HashMap<>();
    final Map<String, String> hashes = new HashMap<>();
    final List<FlagChange> changes = new ArrayList<>();

    @Override
    public List<Flag> flags() {
      return List.copyOf(flags.values());
    }

    @Override
    public Optional<Flag> flag(String key) {
      return Optional.ofNullable(flags.get(key));
    }

    @Override
    public FlagChange saveFlag(Flag flag, String source, String specHash) {
      FlagChange c =
          new FlagChange(
              changes.size() + 1, Instant.EPOCH, flag.key(), source, flags.get(flag.key()), flag);
      flags.put(flag.key(), flag);
      if (specHash != null) {
        hashes.put(flag.key(), specHash);
      }
      changes.add(0, c);
      return c;
    }

    @Override
    public Optional<FlagChange> deleteFlag(String key, String source) {
      Flag old = flags.remove(key);
      if (old == null) {
        return Optional.empty();
      }
      FlagChange c = new FlagChange(changes.size() + 1, Instant.EPOCH, key, source, old, null);
      changes.add(0, c);
      return Optional.of(c);
    }

    @Override
    public Optional<String> specHash(String key) {
      return Optional.ofNullable(hashes.get(key));
    }

    @Override
    public List<FlagChange> flagHistory(String key, int limit) {
      return changes.stream().filter(c -> key == null || c.key().equals(key)).limit(limit).toList();
    }

    final Map<String, FlagRollout> rollouts = new java.util.LinkedHashMap<>();

    @Override
    public void saveFlagRollout(FlagRollout rollout) {
      rollouts.put(rollout.key(), rollout);
    }

    @Override
    public List<FlagRollout> flagRollouts() {
      return List.copyOf(rollouts.values());
    }
  }
}
