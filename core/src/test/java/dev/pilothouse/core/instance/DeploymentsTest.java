package dev.pilothouse.core.instance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pilothouse.core.deploy.Backups;
import dev.pilothouse.core.deploy.Deployments;
import dev.pilothouse.core.deploy.Preflight;
import dev.pilothouse.core.rollout.Ports;
import dev.pilothouse.core.rollout.Rollout;
import dev.pilothouse.core.rollout.RolloutController;
import dev.pilothouse.core.spec.Revision;
import dev.pilothouse.core.spec.Revisions;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.core.spec.SpecDiff;
import dev.pilothouse.core.spec.Strategy;
import dev.pilothouse.core.traffic.Split;
import dev.pilothouse.core.traffic.TrafficSplitter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Deploy orchestration over the real instance and rollout controllers (their runtime, store and
 * metrics faked), in virtual time: the two controllers meet only in the stored rollouts.
 */
class DeploymentsTest extends ControllerFixture {
  final SplittableRandom random = new SplittableRandom(11);
  final List<Revision> revisionList = new ArrayList<>();
  final Map<String, Rollout> stored = new HashMap<>();
  double canaryErrorRate;
  boolean badVersionEverStable;

  final Revisions revisions =
      new Revisions() {
        @Override
        public Revision append(Spec spec, String source) {
          Revision r = new Revision(revisionList.size() + 1, clock.instant(), source, spec);
          revisionList.add(r);
          return r;
        }

        @Override
        public Optional<Revision> latest() {
          return revisionList.isEmpty()
              ? Optional.empty()
              : Optional.of(revisionList.get(revisionList.size() - 1));
        }

        @Override
        public List<Revision> list() {
          return List.copyOf(revisionList);
        }
      };

  final Ports.Fleet fleet =
      new Ports.Fleet() {
        @Override
        public void setCanary(String service, ServiceSpec canary, int count) {
          c.setCanary(service, canary, count);
        }

        @Override
        public void clearCanary(String service) {
          c.clearCanary(service);
        }

        @Override
        public Optional<String> canaryTemplate(String service) {
          return c.canaryTemplate(service);
        }

        @Override
        public boolean canaryCrashLooping(String service) {
          return c.canaryCrashLooping(service);
        }

        @Override
        public boolean crashLooping(String service) {
          return false;
        }

        @Override
        public void promote(String service) {
          c.promoteCanary(service);
        }

        @Override
        public List<InstanceStatus> instances(String service) {
          return status(service).instances();
        }
      };

  /** v2 answers canaryErrorRate of its requests with errors; v1 almost none. */
  final Ports.Measurements measurements =
      (Set<String> ids, Instant since) -> {
        boolean v2 =
            status("shop").instances().stream()
                .anyMatch(i -> ids.contains(i.id()) && i.version().equals("v2"));
        int n = 400;
        long failures = 0;
        double[] lat = new double[n];
        for (int i = 0; i < n; i++) {
          lat[i] = 5 + random.nextDouble() * 5;
          if (random.nextDouble() < (v2 ? canaryErrorRate : 0.002)) {
            failures++;
          }
        }
        return new Ports.Sample(n, failures, lat);
      };

  final TrafficSplitter traffic =
      new TrafficSplitter() {
        @Override
        public void split(String service, Split split) {}

        @Override
        public void clear(String service) {}
      };

  final Ports.RolloutStore rolloutStore =
      new Ports.RolloutStore() {
        @Override
        public void saveRollout(Rollout rollout) {
          stored.put(rollout.service(), rollout);
        }

        @Override
        public List<Rollout> rollouts() {
          return List.copyOf(stored.values());
        }
      };

  RolloutController rollouts = rollouts();
  Deployments deployments = deployments();

  RolloutController rollouts() {
    return RolloutController.create(
        new RolloutController.Options(
            fleet,
            traffic,
            measurements,
            rolloutStore,
            events,
            clock,
            random,
            Ports.Checks.none()));
  }

  Deployments deployments() {
    return new Deployments(revisions, c, rollouts, events, clock, Preflight.none(), Backups.none());
  }

  static final Strategy.Canary PLAN =
      new Strategy.Canary(
          List.of(Strategy.Step.weight(20), Strategy.Step.analysis(Duration.ofSeconds(20))),
          1,
          List.of(),
          false,
          Strategy.Analysis.DEFAULT,
          Duration.ofMinutes(1),
          List.of(),
          null,
          List.of(),
          Duration.ZERO,
          Duration.ofMinutes(2));

  static Spec shop(String version) {
    return new Spec(List.of(service("shop", 2, version).withPlan(PLAN)));
  }

  /** The daemon's tick, in its order, every 100 ms of virtual time. */
  void daemon(Duration d) {
    for (long t = 0; t < d.toMillis(); t += 100) {
      c.tick();
      rollouts.tick();
      deployments.tick();
      badVersionEverStable |=
          status("shop").instances().stream()
              .anyMatch(i -> i.slot() < 10_000 && i.version().equals("v2"));
      clock.advance(Duration.ofMillis(100));
    }
  }

  /** v1 runs; v2, which answers 30% of its requests with errors, is being deployed. */
  void deployABadV2() {
    deployments.apply(shop("v1"), "v1.yaml");
    daemon(Duration.ofSeconds(2));
    canaryErrorRate = 0.3;
    deployments.apply(shop("v2"), "v2.yaml");
  }

  List<String> sources() {
    return revisionList.stream().map(Revision::source).toList();
  }

  @Test
  void aRegionFailover_movesItsWeightToTheOthersInProportion_asANewRevision() {
    java.util.function.BiFunction<String, Integer, dev.pilothouse.core.spec.RegionSpec> region =
        (name, w) ->
            new dev.pilothouse.core.spec.RegionSpec(
                name,
                new dev.pilothouse.core.spec.RuntimeSpec(
                    dev.pilothouse.core.spec.RuntimeSpec.Kind.KUBERNETES, name, "", ""),
                java.net.URI.create("http://" + name + ".example.com:80"),
                w);
    Spec three =
        new Spec(List.of())
            .withRegions(
                List.of(region.apply("eu", 40), region.apply("us", 45), region.apply("ap", 15)));
    deployments.apply(three, "regions.yaml");
    deployments.failover("eu", "");
    assertThat(deployments.current().regions())
        .extracting(r -> r.name() + "=" + r.weight())
        .containsExactly("eu=0", "us=75", "ap=25"); // 40 split 45:15, nothing lost
    assertThat(sources()).containsExactly("regions.yaml", "region failover eu");
    assertThat(SpecDiff.between(three, deployments.current()))
        .contains("~ regions.eu.weight: 40 -> 0");

    deployments.failover("us", "ap");
    assertThat(deployments.current().regions())
        .extracting(r -> r.name() + "=" + r.weight())
        .containsExactly("eu=0", "us=0", "ap=100");
    assertThatThrownBy(() -> deployments.failover("ap", "ap")).hasMessageContaining("to itself");
    assertThatThrownBy(() -> deployments.failover("mars", ""))
        .hasMessageContaining("no region named 'mars'");
    assertThatThrownBy(() -> deployments.regionWeights(java.util.Map.of("ap", 0), "x"))
        .hasMessageContaining("every region would get no traffic");
    assertThat(sources()).hasSize(3); // refusals change nothing
  }

  @Test
  void aRolledBackCanary_returnsTheDesiredStateToStable_onceAsANewRevision() {
    deployABadV2();
    daemon(Duration.ofSeconds(40));

    assertThat(rollouts.status("shop").orElseThrow().phase()).isEqualTo(Rollout.Phase.ROLLED_BACK);
    assertThat(sources()).containsExactly("v1.yaml", "v2.yaml", "rollback of shop");
    assertThat(deployments.current().service("shop").orElseThrow().version()).isEqualTo("v1");
    assertThat(badVersionEverStable).as("v2 only ever ran as the canary").isFalse();
    assertThat(status("shop").instances())
        .hasSize(2)
        .allSatisfy(i -> assertThat(i.version()).isEqualTo("v1"));

    // A restarted daemon reads the same stored outcome: no second revert.
    rollouts = rollouts();
    deployments = deployments();
    daemon(Duration.ofSeconds(2));
    assertThat(sources()).hasSize(3);
  }

  @Test
  void aRollbackNotYetStored_isStoredByTheNextDaemon() {
    deployABadV2();
    while (rollouts.status("shop").orElseThrow().phase() != Rollout.Phase.ROLLED_BACK) {
      c.tick();
      rollouts.tick(); // the daemon dies before its Deployments tick stores the revert
      clock.advance(Duration.ofMillis(100));
    }
    assertThat(sources()).hasSize(2);

    rollouts = rollouts();
    deployments = deployments();
    daemon(Duration.ofSeconds(1));

    assertThat(sources()).containsExactly("v1.yaml", "v2.yaml", "rollback of shop");
    assertThat(badVersionEverStable).isFalse();
  }

  @Test
  void reapplyingTheVersionThatWasRolledBack_startsANewRollout_ratherThanBeingReverted() {
    deployABadV2();
    daemon(Duration.ofSeconds(40));
    canaryErrorRate = 0.0; // fixed without a new version number

    deployments.apply(shop("v2"), "v2-again.yaml");
    daemon(Duration.ofSeconds(1));
    assertThat(rollouts.status("shop").orElseThrow().phase().done()).isFalse();
    daemon(Duration.ofSeconds(40));

    assertThat(rollouts.status("shop").orElseThrow().phase()).isEqualTo(Rollout.Phase.PROMOTED);
    assertThat(sources())
        .containsExactly("v1.yaml", "v2.yaml", "rollback of shop", "v2-again.yaml");
    daemon(Duration.ofSeconds(5));
    assertThat(status("shop").instances())
        .hasSize(2)
        .allSatisfy(i -> assertThat(i.version()).isEqualTo("v2"));
  }

  @Test
  void anAutoscaledService_runsTheAutoscalersCount_withinItsBounds_andKeepsItThroughARollback() {
    var scales = dev.pilothouse.core.scaling.ScaleRepository.inMemory(events);
    deployments =
        new Deployments(
            revisions, c, rollouts, events, clock, Preflight.none(), Backups.none(), scales);
    var a =
        new dev.pilothouse.core.spec.Autoscale(
            1,
            5,
            List.of(new dev.pilothouse.core.spec.Autoscale.Target.RequestsPerSecond(50)),
            null,
            null,
            null,
            Duration.ZERO,
            null);
    java.util.function.Function<String, Spec> spec =
        v -> new Spec(List.of(service("shop", 2, v).withPlan(PLAN).withAutoscale(a)));
    deployments.apply(spec.apply("v1"), "v1.yaml");
    daemon(Duration.ofSeconds(2));
    assertThat(status("shop").instances()).hasSize(2);

    scales.saveScale(
        new dev.pilothouse.core.scaling.ScaleState("shop", 4, clock.instant(), "load"),
        new dev.pilothouse.core.event.NewEvent(
            clock.instant(), "Scaled", "shop", "", "scaled", Map.of()));
    daemon(Duration.ofSeconds(3));
    assertThat(status("shop").instances()).hasSize(4);
    scales.saveScale(
        new dev.pilothouse.core.scaling.ScaleState("shop", 9, clock.instant(), "load"),
        new dev.pilothouse.core.event.NewEvent(
            clock.instant(), "Scaled", "shop", "", "scaled", Map.of()));
    daemon(Duration.ofSeconds(3));
    assertThat(status("shop").instances()).as("held at max").hasSize(5);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> deployments.scale("shop", 3))
        .isInstanceOf(dev.pilothouse.core.deploy.DeployException.class)
        .hasMessageContaining("autoscaled between 1 and 5");

    canaryErrorRate = 0.3;
    deployments.apply(spec.apply("v2"), "v2.yaml");
    daemon(Duration.ofSeconds(40));
    assertThat(rollouts.status("shop").orElseThrow().phase()).isEqualTo(Rollout.Phase.ROLLED_BACK);
    assertThat(deployments.current().service("shop").orElseThrow().replicas())
        .as("the revision keeps the declared count")
        .isEqualTo(2);
    assertThat(status("shop").instances())
        .hasSize(5)
        .allSatisfy(i -> assertThat(i.version()).isEqualTo("v1"));
  }
}
