package dev.pilothouse.experiment;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.experiment.ExperimentRecord;
import dev.pilothouse.core.experiment.ExperimentRepository;
import dev.pilothouse.core.spec.ExperimentSpec;
import dev.pilothouse.core.spec.Spec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The lifecycle and results in virtual time, over a fake metrics store that answers the queries the
 * results are read with (requests, failures, latency buckets, the custom metric).
 */
class ExperimentsTest {
  Instant now = Instant.parse("2026-11-29T12:00:00Z");
  Spec spec = new Spec(List.of()).withoutExperiment("none");
  final List<NewEvent> events = new ArrayList<>();
  final Map<String, ExperimentRecord> stored = new LinkedHashMap<>();
  final List<String> queries = new ArrayList<>();
  double requestsPerVariant = 500;

  final ExperimentRepository repo =
      new ExperimentRepository() {
        @Override
        public void saveExperiment(ExperimentRecord r) {
          stored.put(r.name(), r);
        }

        @Override
        public List<ExperimentRecord> experiments() {
          return List.copyOf(stored.values());
        }
      };

  /** Control converts 10 %, green 20 %; 1 % errors each; latency all in the 5–10 ms bucket. */
  final MetricsQuery query =
      (expr, at) -> {
        queries.add(expr + " @ " + at);
        boolean green = expr.contains("shop--green");
        if (expr.contains("le)")) {
          return List.of(
              new MetricsQuery.Sample(Map.of("le", "0.005"), 0),
              new MetricsQuery.Sample(Map.of("le", "0.01"), requestsPerVariant),
              new MetricsQuery.Sample(Map.of("le", "+Inf"), requestsPerVariant));
        }
        if (expr.contains("conversions")) {
          return List.of(
              new MetricsQuery.Sample(Map.of(), requestsPerVariant * (green ? 0.2 : 0.1)));
        }
        double n = expr.contains("5xx") ? requestsPerVariant * 0.01 : requestsPerVariant;
        return List.of(new MetricsQuery.Sample(Map.of(), n));
      };

  static ExperimentSpec checkout(long minSamples) {
    return new ExperimentSpec(
        "checkout",
        "shop",
        List.of(
            new ExperimentSpec.Variant("control", 50, null, Map.of()),
            new ExperimentSpec.Variant("green", 50, "v1-green", Map.of("BUTTON", "green"))),
        "header:x-user",
        Duration.ofHours(1),
        minSamples,
        List.of(
            new ExperimentSpec.Metric(
                "conversion",
                "sum(increase(conversions_total{job=\"{{service}}\"}[{{window}}]))")));
  }

  Spec withExperiment(ExperimentSpec e) {
    return new Spec(
        spec.proxy(), spec.services(), spec.notifications(), spec.metrics(), List.of(), List.of(e));
  }

  Experiments experiments() {
    return new Experiments(() -> spec, query, repo, events::add, () -> now);
  }

  @Test
  void runsUntilEveryVariantHasItsSamples_thenConcludesWithTheLeader() {
    spec = withExperiment(checkout(1000));
    Experiments x = experiments();
    x.tick();
    Experiments.Status s = x.status("checkout").orElseThrow();
    assertThat(s.record().phase()).isEqualTo("Running");
    assertThat(queries)
        .anySatisfy(q -> assertThat(q).contains("conversions_total{job=\"shop--green\"}[1s]"))
        .anySatisfy(
            q ->
                assertThat(q)
                    .startsWith(
                        "sum(increase(pilothouse_proxy_requests_total{route=\"shop\",service=\"shop\"}[1s])) @ "));
    Effect conv = s.results().comparisons().get("green").get("conversion");
    assertThat(conv.control()).isEqualTo(0.1);
    assertThat(conv.variant()).isEqualTo(0.2);
    assertThat(conv.significant()).isTrue();
    assertThat(s.results().variants().get(1).latencyMeanMs()).isEqualTo(7.5);
    requestsPerVariant = 1200;
    now = now.plus(Experiments.READ_EVERY);
    x.tick();
    Experiments.Status done = x.status("checkout").orElseThrow();
    assertThat(done.record().phase()).isEqualTo("Concluded");
    assertThat(done.results().leader()).isEqualTo("green");
    assertThat(events)
        .extracting(NewEvent::message)
        .contains("experiment checkout concluded (every variant has 1000 requests): leader green");
  }

  @Test
  void concludesWhenItsDurationPasses_andEndsWhenItLeavesTheSpec() {
    spec = withExperiment(checkout(0));
    Experiments x = experiments();
    x.tick();
    now = now.plus(Duration.ofHours(1));
    x.tick();
    assertThat(x.status("checkout").orElseThrow().record().phase()).isEqualTo("Concluded");
    x.ending("checkout", "promoted green");
    spec = new Spec(List.of());
    x.tick();
    ExperimentRecord ended = stored.get("checkout");
    assertThat(ended.phase()).isEqualTo("Ended");
    assertThat(ended.outcome()).isEqualTo("promoted green");
    assertThat(events).extracting(NewEvent::type).contains("ExperimentEnded");
  }

  @Test
  void afterARestart_keepsItsStart_andAChangedDefinitionStartsAfresh() {
    spec = withExperiment(checkout(0));
    experiments().tick();
    Instant started = stored.get("checkout").startedAt();
    now = now.plusSeconds(60);
    Experiments again = experiments();
    again.tick();
    assertThat(again.status("checkout").orElseThrow().record().startedAt()).isEqualTo(started);
    assertThat(queries.get(queries.size() - 1)).contains("[60s]");
    spec = withExperiment(checkout(5000));
    again.tick();
    assertThat(stored.get("checkout").startedAt()).isEqualTo(now);
  }
}
