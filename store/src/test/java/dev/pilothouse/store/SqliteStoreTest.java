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
import dev.pilothouse.core.spec.Strategy;
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
  void theSchemaVersion_isTheNewestMigrations_inBothStores() throws Exception {
    for (String dir : List.of("db/sqlite", "db/postgres")) {
      try (var files = Files.list(Path.of(getClass().getClassLoader().getResource(dir).toURI()))) {
        int newest =
            files
                .map(f -> f.getFileName().toString())
                .filter(n -> n.matches("V\\d+__.*\\.sql"))
                .mapToInt(n -> Integer.parseInt(n.substring(1, n.indexOf("__"))))
                .max()
                .orElseThrow();
        assertThat(newest).as(dir).isEqualTo(SqliteStore.SCHEMA_VERSION);
      }
    }
  }

  @Test
  void aStoreOneMigrationBehind_isMigratedWhenOpened() {
    try (SqliteStore s = open()) {
      s.execute("DROP TABLE leader");
      s.execute("DELETE FROM flyway_schema_history WHERE version = '15'");
    }
    try (SqliteStore s = open()) {
      s.execute("INSERT INTO leader VALUES (1, 'a', '', '', 1, 0)"); // the table is back
      s.append(spec(), "shop.yaml");
      assertThat(s.list()).hasSize(1);
    }
  }

  @Test
  void chaosRuns_andTheKillSwitch_surviveReopen_andOldRunsArePruned() {
    Instant t0 = Instant.parse("2026-11-30T10:00:00Z");
    dev.pilothouse.core.chaos.ChaosRun.Applied pause =
        new dev.pilothouse.core.chaos.ChaosRun.Applied(
            "pause", "shop-1", 42, 7, "", "SIGSTOP", t0, false);
    try (SqliteStore s = open()) {
      for (int i = 0; i < 3; i++) {
        s.saveChaosRun(
            new dev.pilothouse.core.chaos.ChaosRun(
                "run-" + i,
                "kill",
                "chaos/kill.yaml",
                "name: kill",
                "shop",
                false,
                i == 2
                    ? dev.pilothouse.core.chaos.ChaosRun.State.INJECTED
                    : dev.pilothouse.core.chaos.ChaosRun.State.DONE,
                t0.plusSeconds(i),
                t0.plusSeconds(i),
                null,
                5,
                List.of(pause),
                List.of(
                    new dev.pilothouse.core.chaos.ChaosRun.Sample(
                        "errors",
                        dev.pilothouse.core.chaos.ChaosExperiment.Phase.DURING,
                        t0,
                        Double.NaN,
                        false,
                        "no value")),
                List.of(),
                null));
      }
      s.saveChaosHalt(new dev.pilothouse.core.chaos.ChaosRepository.Halt(t0, "release week"));
    }
    try (SqliteStore s = open()) {
      assertThat(s.chaosRuns()).extracting(r -> r.id()).containsExactly("run-2", "run-1", "run-0");
      dev.pilothouse.core.chaos.ChaosRun r = s.chaosRun("run-2").orElseThrow();
      assertThat(r.applied()).containsExactly(pause);
      assertThat(r.samples().get(0).value()).isNaN();
      assertThat(s.chaosHalt().orElseThrow().reason()).isEqualTo("release week");
      s.pruneChaosRuns(1); // the newest run that is over stays, and every run under way
      assertThat(s.chaosRuns()).extracting(x -> x.id()).containsExactly("run-2", "run-1");
      s.saveChaosHalt(null);
      assertThat(s.chaosHalt()).isEmpty();
    }
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
  void autoscaling_roundTripsInTheRevision_everyTargetKind() {
    var a =
        new dev.pilothouse.core.spec.Autoscale(
            2,
            12,
            List.of(
                new dev.pilothouse.core.spec.Autoscale.Target.RequestsPerSecond(50),
                new dev.pilothouse.core.spec.Autoscale.Target.Cpu(70),
                new dev.pilothouse.core.spec.Autoscale.Target.Memory(80),
                new dev.pilothouse.core.spec.Autoscale.Target.InFlight(20),
                new dev.pilothouse.core.spec.Autoscale.Target.LatencyP99(250),
                new dev.pilothouse.core.spec.Autoscale.Target.Promql("sum(rate(x[1m]))", 100)),
            new dev.pilothouse.core.spec.Autoscale.Tolerance(0.05, 0.2),
            null,
            new dev.pilothouse.core.spec.Autoscale.Behavior(
                Duration.ofSeconds(120),
                List.of(
                    new dev.pilothouse.core.spec.Autoscale.Policy(
                        dev.pilothouse.core.spec.Autoscale.Policy.Kind.PERCENT,
                        50,
                        Duration.ofSeconds(60))),
                dev.pilothouse.core.spec.Autoscale.Behavior.Select.MIN),
            Duration.ofSeconds(45),
            new dev.pilothouse.core.spec.Autoscale.Fallback(Duration.ofMinutes(2), 4));
    ServiceSpec shop = spec().services().get(0).withAutoscale(a);
    try (SqliteStore s = open()) {
      s.append(new Spec(List.of(shop)), "shop.yaml");
    }
    try (SqliteStore s = open()) {
      assertThat(s.latest().orElseThrow().spec().services().get(0).autoscale()).isEqualTo(a);
    }
  }

  @Test
  void scaleDecisions_areStoredWithTheirEvent_andSurviveReopen() {
    var st = new dev.pilothouse.core.scaling.ScaleState("shop", 5, clock.instant(), "load");
    try (SqliteStore s = open()) {
      assertThat(s.scales()).isEmpty();
      s.saveScale(
          st,
          new NewEvent(clock.instant(), "Scaled", "shop", "", "scaled shop from 2 to 5", Map.of()));
      assertThat(s.scales()).containsEntry("shop", st);
      assertThat(s.latest(1).get(0).type()).isEqualTo("Scaled");
      s.emit(new NewEvent(clock.instant(), "Other", "", "", "after", Map.of()));
      assertThat(s.verify().intact()).isTrue();
    }
    try (SqliteStore s = open()) {
      assertThat(s.scales()).containsEntry("shop", st);
      s.deleteScale("shop");
      assertThat(s.scales()).isEmpty();
    }
  }

  @Test
  void ruleGroups_roundTripInTheRevision_asRecordingAndAlertingRules() {
    var group =
        new dev.pilothouse.core.alerting.RuleGroup(
            "node",
            "rules/node.yml",
            Duration.ofSeconds(30),
            5,
            List.of(
                new dev.pilothouse.core.alerting.Rule.Recording(
                    "job:up:sum", "sum by (job) (up)", Map.of("team", "infra")),
                new dev.pilothouse.core.alerting.Rule.Alerting(
                    "Down",
                    "up == 0",
                    Duration.ofMinutes(5),
                    Duration.ofMinutes(1),
                    Map.of("severity", "page"),
                    Map.of("summary", "{{ $labels.instance }} down"))));
    Spec base = spec();
    Spec withRules =
        new Spec(
            base.proxy(),
            base.services(),
            base.notifications(),
            base.metrics(),
            base.flags(),
            base.experiments(),
            new dev.pilothouse.core.spec.AlertingSpec(List.of("rules/*.yml"), List.of(group)));
    try (SqliteStore s = open()) {
      s.append(withRules, "shop.yaml");
    }
    try (SqliteStore s = open()) {
      assertThat(s.latest().orElseThrow().spec()).isEqualTo(withRules);
    }
  }

  @Test
  void alertStates_areKeptPerGroup_surviveReopen_andAnEmptyListRemovesTheGroup() {
    var firing =
        new dev.pilothouse.core.alerting.AlertState(
            "Down",
            Map.of("alertname", "Down", "instance", "a:1"),
            Map.of("summary", "a:1 down"),
            dev.pilothouse.core.alerting.AlertState.State.FIRING,
            Instant.parse("2026-11-29T10:00:00Z"),
            Instant.parse("2026-11-29T10:05:00Z"),
            null,
            null,
            Double.NaN);
    try (SqliteStore s = open()) {
      s.save("rules.yml;node", List.of(firing));
      s.save("rules.yml;other", List.of(firing));
      s.save("rules.yml;other", List.of());
    }
    try (SqliteStore s = open()) {
      var loaded = s.load();
      assertThat(loaded).containsOnlyKeys("rules.yml;node");
      var a = loaded.get("rules.yml;node").get(0);
      assertThat(a.labels()).isEqualTo(firing.labels());
      assertThat(a.state()).isEqualTo(firing.state());
      assertThat(a.activeAt()).isEqualTo(firing.activeAt());
      assertThat(a.firedAt()).isEqualTo(firing.firedAt());
      assertThat(a.value()).isNaN();
    }
  }

  @Test
  void rollouts_roundTripWithVerdictsAndSurviveReopen() {
    var plan =
        dev.pilothouse.core.spec.Strategy.Canary.of(
            List.of(
                dev.pilothouse.core.spec.Strategy.Step.weight(10),
                dev.pilothouse.core.spec.Strategy.Step.pause(null),
                dev.pilothouse.core.spec.Strategy.Step.analysis(Duration.ofSeconds(30))));
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
  void everyStrategyType_roundTripsAsItsOwnRecord() {
    ServiceSpec base = spec().services().get(0);
    Strategy.Canary canary =
        new Strategy.Canary(
            List.of(Strategy.Step.weight(20), Strategy.Step.analysis(Duration.ofSeconds(30))),
            2,
            List.of(new Strategy.MatchRule("header", "x-canary", "1")),
            true,
            new Strategy.Analysis(0.01, 200, 0.02, 12.5, 0.2),
            Duration.ofMinutes(3),
            List.of(new Strategy.Check("db", "command", "./check", Duration.ofSeconds(5))),
            new Strategy.Load(20, "/ping"),
            List.of(new Strategy.SmokeTest("GET", "/h", 200, "ok", Duration.ofSeconds(1))),
            Duration.ofMinutes(2),
            Duration.ofMinutes(4));
    Strategy.BlueGreen blueGreen =
        new Strategy.BlueGreen(
            3,
            List.of(),
            Strategy.Analysis.DEFAULT,
            List.of(),
            Duration.ofSeconds(45),
            Duration.ofMinutes(10));
    Strategy.Rolling rolling =
        Strategy.Rolling.of(new Strategy.Amount(25, true), Strategy.Amount.of(1));
    Spec spec =
        new Spec(
            List.of(
                base.withPlan(canary),
                withName(base, "b").withPlan(blueGreen),
                withName(base, "c").withPlan(rolling),
                withName(base, "d").withPlan(null)));
    try (SqliteStore s = open()) {
      s.append(spec, "x");
    }
    try (SqliteStore s = open()) {
      Spec back = s.latest().orElseThrow().spec();
      assertThat(back).isEqualTo(spec);
      assertThat(back.services())
          .extracting(ServiceSpec::plan)
          .containsExactly(canary, blueGreen, rolling, Strategy.rolling());
    }
  }

  @Test
  void rowsWrittenBeforeStrategyTypes_areMigratedOnce_toTheTypedRecords() throws Exception {
    Path db = dir.resolve("p.db");
    org.flywaydb.core.Flyway.configure()
        .dataSource("jdbc:sqlite:" + db, "", "")
        .locations("classpath:db/sqlite")
        .target("3")
        .load()
        .migrate();
    // As 0.x wrote them: one record for every strategy, its kind a field, analysis fields flat.
    String canary =
        "{\"steps\":[{\"kind\":\"WEIGHT\",\"weight\":10,\"duration\":null}],"
            + "\"canaryReplicas\":2,\"match\":[],\"progressDeadline\":\"PT10M\","
            + "\"maxAnalysisWait\":\"PT5M\",\"alpha\":0.01,\"minRequests\":80,"
            + "\"maxErrorRateIncrease\":0.02,\"maxLatencyIncreaseMs\":7.0,"
            + "\"maxLatencyIncreaseRatio\":0.1,\"kind\":\"CANARY\","
            + "\"maxSurge\":{\"value\":1,\"percent\":false},"
            + "\"maxUnavailable\":{\"value\":0,\"percent\":false},\"smoke\":[],"
            + "\"checks\":[],\"load\":null,\"validation\":\"PT1M\",\"sticky\":true,"
            + "\"rollbackWindow\":\"PT0S\"}";
    String blueGreen =
        canary
            .replace("\"CANARY\"", "\"BLUE_GREEN\"")
            .replace("\"rollbackWindow\":\"PT0S\"", "\"rollbackWindow\":\"PT30S\"");
    String rolling =
        canary
            .replace("\"CANARY\"", "\"ROLLING\"")
            .replace("{\"value\":1,\"percent\":false}", "{\"value\":2,\"percent\":false}");
    var mapper = SpecJson.builder().build();
    var services = mapper.createArrayNode();
    String[][] legacy = {{"a", canary}, {"b", blueGreen}, {"c", rolling}, {"d", "null"}};
    for (String[] p : legacy) {
      var svc =
          (com.fasterxml.jackson.databind.node.ObjectNode)
              mapper.valueToTree(withName(spec().services().get(0), p[0]));
      svc.remove("strategy");
      svc.set("canary", mapper.readTree(p[1]));
      services.add(svc);
    }
    var root = (com.fasterxml.jackson.databind.node.ObjectNode) mapper.valueToTree(spec());
    root.set("services", services);
    String spec = mapper.writeValueAsString(root);
    String rollout =
        "{\"service\":\"a\",\"before\":"
            + spec
            + ",\"after\":"
            + spec
            + ",\"plan\":"
            + canary
            + ",\"phase\":\"PAUSED\",\"step\":0,\"weight\":10,"
            + "\"startedAt\":\"1970-01-01T00:00:00Z\",\"stepStartedAt\":\"1970-01-01T00:00:00Z\","
            + "\"reason\":\"x\",\"verdicts\":[],\"smoked\":true,\"baseline\":null}";
    try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + db);
        var st = c.createStatement()) {
      st.execute(
          "INSERT INTO revisions(number, at, source, spec_json) VALUES (1, '2026-01-01T00:00:00Z',"
              + " 'old.yaml', '"
              + spec
              + "')");
      st.execute("INSERT INTO rollouts(service, json) VALUES ('a', '" + rollout + "')");
    }
    try (SqliteStore s = open()) {
      List<Strategy> plans =
          s.latest().orElseThrow().spec().services().stream().map(ServiceSpec::plan).toList();
      assertThat(plans.get(0))
          .isEqualTo(
              new Strategy.Canary(
                  List.of(Strategy.Step.weight(10)),
                  2,
                  List.of(),
                  true,
                  new Strategy.Analysis(0.01, 80, 0.02, 7.0, 0.1),
                  Duration.ofMinutes(5),
                  List.of(),
                  null,
                  List.of(),
                  Duration.ofMinutes(1),
                  Duration.ofMinutes(10)));
      assertThat(plans.get(1))
          .isEqualTo(
              new Strategy.BlueGreen(
                  2,
                  List.of(),
                  new Strategy.Analysis(0.01, 80, 0.02, 7.0, 0.1),
                  List.of(),
                  Duration.ofSeconds(30),
                  Duration.ofMinutes(10)));
      assertThat(plans.get(2))
          .isEqualTo(
              new Strategy.Rolling(
                  Strategy.Amount.of(2), Strategy.Amount.of(0), Duration.ofMinutes(10)));
      assertThat(plans.get(3)).as("no strategy: the default rolling").isEqualTo(Strategy.rolling());
      assertThat(s.rollouts())
          .singleElement()
          .satisfies(
              r -> {
                assertThat(r.plan()).isEqualTo(plans.get(0));
                assertThat(r.before().services().get(1).plan()).isEqualTo(plans.get(1));
              });
    }
    try (SqliteStore s = open()) { // reopening does not migrate again
      assertThat(s.latest().orElseThrow().spec().services().get(0).plan())
          .isInstanceOf(Strategy.Canary.class);
    }
  }

  static ServiceSpec withName(ServiceSpec s, String name) {
    return new ServiceSpec(
        name,
        s.command(),
        s.args(),
        s.env(),
        s.workdir(),
        s.version(),
        s.replicas(),
        s.liveness(),
        s.readiness(),
        s.restart(),
        s.stop(),
        s.resources(),
        s.route(),
        s.strategy(),
        s.deploy(),
        s.inheritEnv());
  }

  @Test
  void experiments_surviveAReopen_oneRowPerName() {
    var running =
        new dev.pilothouse.core.experiment.ExperimentRecord(
            "checkout", "shop", "ab12", Instant.parse("2026-11-29T12:00:00Z"), "Running", null, "");
    var concluded =
        new dev.pilothouse.core.experiment.ExperimentRecord(
            "checkout",
            "shop",
            "ab12",
            running.startedAt(),
            "Concluded",
            Instant.parse("2026-11-29T13:00:00Z"),
            "promoted green");
    try (SqliteStore s = open()) {
      s.saveExperiment(running);
      s.saveExperiment(concluded);
    }
    try (SqliteStore s = open()) {
      assertThat(s.experiments()).containsExactly(concluded);
    }
  }

  @Test
  void flagRollouts_survivesAReopen_oneRowPerFlag() {
    var verdict =
        new dev.pilothouse.core.analysis.Verdict(
            "errors",
            dev.pilothouse.core.analysis.Verdict.Outcome.PASS,
            Double.NaN,
            0.002,
            "errors: 1 series true");
    var r =
        new dev.pilothouse.core.flags.FlagRollout(
            "new-checkout",
            "off",
            "on",
            List.of(1, 10, 100),
            java.time.Duration.ofMinutes(5),
            List.of(
                new Strategy.Check("errors", "promql", "x < 1", java.time.Duration.ofSeconds(5))),
            dev.pilothouse.core.flags.FlagRollout.Phase.PROGRESSING,
            1,
            Instant.parse("2026-11-29T12:00:00Z"),
            Instant.parse("2026-11-29T12:05:00Z"),
            "at 10%",
            "cli",
            List.of(verdict));
    try (SqliteStore s = open()) {
      s.saveFlagRollout(r.atStep(0, r.startedAt(), "at 1%"));
      s.saveFlagRollout(r);
    }
    try (SqliteStore s = open()) {
      assertThat(s.flagRollouts()).containsExactly(r);
    }
  }

  @Test
  void flags_roundTrip_keepTheirHistory_andTheSpecHashOfTheSpecThatSetThem() {
    java.util.Map<String, Object> variants = new java.util.LinkedHashMap<>();
    variants.put("blue", java.util.Map.of("hex", "#00f"));
    variants.put("red", java.util.Map.of("hex", "#f00"));
    var f =
        new dev.pilothouse.core.flags.Flag(
            "theme",
            dev.pilothouse.core.flags.Flag.Type.OBJECT,
            variants,
            "blue",
            null,
            true,
            List.of(
                new dev.pilothouse.core.flags.Flag.Rule(
                    "half",
                    List.of(
                        new dev.pilothouse.core.flags.Flag.Condition(
                            "country",
                            dev.pilothouse.core.flags.Flag.Condition.Op.IN,
                            List.of("NL", "DE"))),
                    null,
                    java.util.Map.of("red", 50, "blue", 50))),
            "colours");
    try (SqliteStore s = open()) {
      s.saveFlag(f, "spec r1", "abc");
      s.saveFlag(
          new dev.pilothouse.core.flags.Flag(
              "theme", f.type(), variants, "red", null, false, f.rules(), "colours"),
          "cli",
          null);
    }
    try (SqliteStore s = open()) {
      assertThat(s.flag("theme").orElseThrow().defaultVariant()).isEqualTo("red");
      assertThat(s.flag("theme").orElseThrow().rules()).isEqualTo(f.rules());
      assertThat(s.specHash("theme")).as("kept by a change from the CLI").contains("abc");
      assertThat(s.flagHistory("theme", 10))
          .extracting(dev.pilothouse.core.flags.FlagChange::source)
          .containsExactly("cli", "spec r1");
      assertThat(s.flagHistory("theme", 10).get(1).after()).isEqualTo(f);
      assertThat(s.deleteFlag("theme", "api")).isPresent();
      assertThat(s.deleteFlag("theme", "api")).isEmpty();
      assertThat(s.flags()).isEmpty();
      assertThat(s.flagHistory(null, 10)).hasSize(3);
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

  @Test
  void incidents_andTheirEventPosition_roundTrip_andSurviveReopen() {
    var t0 = java.time.Instant.parse("2026-11-30T10:00:00Z");
    var open =
        new dev.pilothouse.core.incident.Incident(
            0,
            "service:shop",
            "shop",
            "errors",
            "page",
            dev.pilothouse.core.incident.Incident.State.TRIGGERED,
            t0,
            null,
            null,
            null,
            null,
            "shop",
            1,
            java.util.List.of(
                new dev.pilothouse.core.incident.Incident.Alert(
                    "HighErrorRate", "{service=\"shop\"}", "page", "errors", "", t0, null)),
            java.util.List.of(
                new dev.pilothouse.core.incident.Incident.Entry(t0, "alert", "fired")));
    try (SqliteStore s = open()) {
      assertThat(s.incidentSnapshot().open()).isEmpty();
      assertThat(s.nextId()).isEqualTo(1);
      assertThat(s.nextId()).isEqualTo(2);
      var a = open;
      var first =
          new dev.pilothouse.core.incident.Incident(
              1,
              a.key(),
              a.service(),
              a.title(),
              a.severity(),
              a.state(),
              a.openedAt(),
              null,
              null,
              null,
              null,
              a.escalation(),
              a.level(),
              a.alerts(),
              a.timeline());
      var second = first.resolved(t0.plusSeconds(60), "bob");
      s.save(java.util.List.of(first), 41);
      s.save(
          java.util.List.of(
              new dev.pilothouse.core.incident.Incident(
                      2,
                      a.key(),
                      a.service(),
                      a.title(),
                      a.severity(),
                      a.state(),
                      a.openedAt(),
                      null,
                      null,
                      null,
                      null,
                      a.escalation(),
                      a.level(),
                      a.alerts(),
                      a.timeline())
                  .resolved(t0.plusSeconds(60), "bob")),
          42);
      assertThat(second.open()).isFalse();
    }
    try (SqliteStore s = open()) {
      var snap = s.incidentSnapshot();
      assertThat(snap.eventCursor()).isEqualTo(42);
      assertThat(snap.open())
          .singleElement()
          .satisfies(
              i -> {
                assertThat(i.id()).isEqualTo(1);
                assertThat(i.alerts().get(0).labels()).isEqualTo("{service=\"shop\"}");
                assertThat(i.timeline()).hasSize(1);
              });
      assertThat(s.recent(10))
          .extracting(dev.pilothouse.core.incident.Incident::id)
          .containsExactly(2L, 1L);
      assertThat(s.incident(2).orElseThrow().resolvedBy()).isEqualTo("bob");
      assertThat(s.nextId()).as("ids are never reused").isEqualTo(3);
    }
  }
}
