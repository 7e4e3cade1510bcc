package dev.pilothouse.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pilothouse.core.event.Event;
import dev.pilothouse.core.event.EventChain;
import dev.pilothouse.core.event.EventLog;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.instance.InstanceRecord;
import dev.pilothouse.core.spec.Probe;
import dev.pilothouse.core.spec.Resources;
import dev.pilothouse.core.spec.RestartPolicy;
import dev.pilothouse.core.spec.RouteSpec;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.core.spec.StopPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteStoreTest {
  @TempDir Path dir;
  final InstantSource clock = () -> Instant.parse("2026-03-04T05:06:07Z");

  SqliteStore open() {
    return SqliteStore.open(dir.resolve("p.db"), clock);
  }

  static Spec spec() {
    return new Spec(
        List.of(
            new ServiceSpec(
                "shop",
                "./s",
                List.of("--port", "${PORT}"),
                Map.of("A", "1"),
                "/srv",
                "v3",
                3,
                new Probe(
                    Probe.Kind.EXEC,
                    "",
                    0,
                    List.of("true"),
                    Duration.ofSeconds(2),
                    Duration.ofMillis(500),
                    3,
                    1,
                    Duration.ofSeconds(5)),
                Probe.http("/ready"),
                RestartPolicy.defaults(),
                new StopPolicy("INT", Duration.ofSeconds(3)),
                new Resources(0.5, 1 << 20),
                RouteSpec.defaults("/api"))));
  }

  @Test
  void revisions_roundTripTheWholeSpec_andSurviveReopen() {
    try (SqliteStore s = open()) {
      assertThat(s.latest()).isEmpty();
      assertThat(s.append(spec(), "shop.yaml").number()).isEqualTo(1);
      assertThat(s.append(Spec.empty(), "x").number()).isEqualTo(2);
    }
    try (SqliteStore s = open()) {
      assertThat(s.list()).hasSize(2);
      assertThat(s.list().get(0).spec()).isEqualTo(spec());
      assertThat(s.list().get(0).source()).isEqualTo("shop.yaml");
      assertThat(s.latest().orElseThrow().number()).isEqualTo(2);
    }
  }

  @Test
  void rollouts_roundTripWithVerdictsAndSurviveReopen() {
    var plan =
        dev.pilothouse.core.spec.CanarySpec.of(
            List.of(
                dev.pilothouse.core.spec.CanarySpec.Step.weight(10),
                dev.pilothouse.core.spec.CanarySpec.Step.pause(null),
                dev.pilothouse.core.spec.CanarySpec.Step.analysis(Duration.ofSeconds(30))));
    var verdict =
        new dev.pilothouse.core.analysis.Verdict(
            "latency",
            dev.pilothouse.core.analysis.Verdict.Outcome.INCONCLUSIVE,
            Double.NaN,
            Double.NaN,
            "too little traffic");
    var r =
        new dev.pilothouse.core.rollout.Rollout(
            "shop",
            spec(),
            spec(),
            plan,
            dev.pilothouse.core.rollout.Rollout.Phase.PAUSED,
            1,
            10,
            Instant.EPOCH,
            Instant.EPOCH.plusSeconds(5),
            "paused until promoted",
            List.of(verdict));
    try (SqliteStore s = open()) {
      s.saveRollout(r);
    }
    try (SqliteStore s = open()) {
      assertThat(s.rollouts())
          .singleElement()
          .satisfies(
              x -> {
                assertThat(x).usingRecursiveComparison().ignoringFields("verdicts").isEqualTo(r);
                assertThat(x.verdicts().get(0).pValue()).isNaN();
                assertThat(x.verdicts().get(0).reason()).isEqualTo("too little traffic");
              });
    }
  }

  @Test
  void instances_areSavedReplacedAndDeleted() {
    try (SqliteStore s = open()) {
      InstanceRecord r =
          new InstanceRecord(
              "shop-1",
              "shop",
              0,
              "t-0",
              42,
              4200,
              31000,
              "starting",
              false,
              Instant.EPOCH,
              0,
              "v1");
      s.saveInstance(r);
      s.saveInstance(
          new InstanceRecord(
              "shop-1",
              "shop",
              0,
              "t-0",
              42,
              4200,
              31000,
              "running",
              true,
              Instant.EPOCH,
              0,
              "v1"));
      assertThat(s.loadInstances()).singleElement().satisfies(x -> assertThat(x.ready()).isTrue());
      s.saveGeneration("shop", 3);
      assertThat(s.loadGenerations()).containsEntry("shop", 3);
      s.deleteInstance("shop-1");
      assertThat(s.loadInstances()).isEmpty();
    }
  }

  @Test
  void events_areChained_acrossReopen_andNotifyListeners() throws Exception {
    List<Event> seen = new ArrayList<>();
    try (SqliteStore s = open()) {
      try (AutoCloseable sub = s.subscribe(seen::add)) {
        s.emit(new NewEvent(clock.instant(), "A", "shop", "", "first", Map.of("k", "v")));
      }
      s.emit(new NewEvent(clock.instant(), "B", "", "", "second", Map.of()));
    }
    assertThat(seen).extracting(Event::type).containsExactly("A");
    try (SqliteStore s = open()) {
      s.emit(new NewEvent(clock.instant(), "C", "", "", "third", Map.of()));
      List<Event> all = s.after(0, 100);
      assertThat(all).extracting(Event::seq).containsExactly(1L, 2L, 3L);
      assertThat(all.get(0).prevHash()).isEqualTo(EventChain.GENESIS);
      assertThat(all.get(2).prevHash()).isEqualTo(all.get(1).hash());
      assertThat(all.get(0).fields()).containsEntry("k", "v");
      assertThat(s.latest(2)).extracting(Event::type).containsExactly("B", "C");
      assertThat(s.verify().intact()).isTrue();
      assertThat(s.verify().events()).isEqualTo(3);
    }
  }

  @Test
  void verify_findsATamperedEvent() {
    try (SqliteStore s = open()) {
      for (int i = 0; i < 5; i++) {
        s.emit(new NewEvent(clock.instant(), "T", "", "", "m" + i, Map.of()));
      }
      s.execute("UPDATE events SET message = 'forged' WHERE seq = 4");
      assertThat(s.verify().firstBreak()).get().extracting(EventChain.Break::seq).isEqualTo(4L);
      assertThat(s.verify().broken().reason()).startsWith("edited");
    }
  }

  @Test
  void verify_namesMissingAndReorderedEvents() {
    try (SqliteStore s = open()) {
      for (int i = 0; i < 6; i++) {
        s.emit(new NewEvent(clock.instant(), "T", "", "", "m" + i, Map.of()));
      }
      s.execute("DELETE FROM events WHERE seq = 3");
      EventLog.Verification v = s.verify();
      assertThat(v.broken().seq()).isEqualTo(4L);
      assertThat(v.broken().reason()).isEqualTo("events 3..3 are missing");
    }
  }

  @Test
  void verify_aRewrittenLinkIsCaught_evenWithAFreshHash() {
    try (SqliteStore s = open()) {
      for (int i = 0; i < 4; i++) {
        s.emit(new NewEvent(clock.instant(), "T", "", "", "m" + i, Map.of()));
      }
      // A forger who recomputes event 2's hash still breaks event 3's link.
      Event e2 = s.after(1, 1).get(0);
      String forged =
          EventChain.hash(e2.prevHash(), 2, e2.at().toString(), "T", "", "", "forged", Map.of());
      s.execute("UPDATE events SET message = 'forged', hash = '" + forged + "' WHERE seq = 2");
      EventLog.Verification v = s.verify();
      assertThat(v.broken().seq()).isEqualTo(3L);
      assertThat(v.broken().reason()).contains("link does not match");
    }
  }

  @Test
  void hashEncoding_isUnambiguous() {
    // Fields that would run together in a newline-joined encoding hash differently here.
    String a = EventChain.hash(EventChain.GENESIS, 1, "t", "A", "s", "", "x\ny", Map.of());
    String b = EventChain.hash(EventChain.GENESIS, 1, "t", "A", "s", "x", "y", Map.of());
    assertThat(a).isNotEqualTo(b);
    assertThat(EventChain.hash(EventChain.GENESIS, 1, "t", "A", "", "", "", Map.of("k", "v=w")))
        .isNotEqualTo(
            EventChain.hash(EventChain.GENESIS, 1, "t", "A", "", "", "", Map.of("k=v", "w")));
  }

  @Test
  void unreadableFile_failsWithWhatWasAttempted() throws Exception {
    Path bad = dir.resolve("bad.db");
    Files.writeString(
        bad, "this is not a database, just text that is long enough to be read as a header");
    assertThatThrownBy(() -> SqliteStore.open(bad, clock))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("opening the store " + bad);
  }
}
