package dev.pilothouse.scaling;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.instance.InstanceStatus;
import dev.pilothouse.core.instance.ServiceStatus;
import dev.pilothouse.core.scaling.ScaleRepository;
import dev.pilothouse.core.spec.Autoscale;
import dev.pilothouse.core.spec.Resources;
import dev.pilothouse.core.spec.RestartPolicy;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.core.spec.StopPolicy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The autoscaler over a simulated service in virtual time: instances start after a delay, load is
 * spread over the ready ones, and the autoscaler ticks once a simulated second.
 */
class AutoscalerTest {
  private static final Instant T0 = Instant.parse("2026-11-30T08:00:00Z");

  /** A simulated fleet of one service and the load on it. */
  static final class Sim implements Signals {
    final List<NewEvent> events = new ArrayList<>();
    final ScaleRepository repo = ScaleRepository.inMemory(events::add);
    Instant now = T0;
    ServiceSpec spec;
    Duration startDelay = Duration.ofSeconds(2);

    /** Requests per second offered at a time (seconds since T0). */
    DoubleUnaryOperator load = t -> 0;

    /** CPU (cores) an instance uses at an age (seconds) while serving rps requests per second. */
    CpuModel cpuModel = (age, rps) -> rps * 0.01;

    boolean measured = true;
    boolean rollout;
    final Map<String, Inst> instances = new HashMap<>();
    int next;
    int peak;

    interface CpuModel {
      double cores(double ageSeconds, double rps);
    }

    static final class Inst {
      final String id;
      final Instant started;
      double requests;
      double cpu;

      Inst(String id, Instant started) {
        this.id = id;
        this.started = started;
      }
    }

    Sim(Autoscale a) {
      spec =
          new ServiceSpec(
                  "shop",
                  "./shop",
                  List.of(),
                  Map.of(),
                  "/srv",
                  "v1",
                  1,
                  null,
                  null,
                  RestartPolicy.defaults(),
                  StopPolicy.defaults(),
                  new Resources(0.5, 256L << 20),
                  null)
              .withAutoscale(a);
    }

    Autoscaler autoscaler() {
      return new Autoscaler(
          new Autoscaler.Options(
              () -> new Spec(List.of(spec)), this::status, this, s -> rollout, repo, () -> now));
    }

    int desired() {
      var st = repo.scales().get("shop");
      return spec.autoscale().clamp(st == null ? spec.replicas() : st.replicas());
    }

    boolean ready(Inst i) {
      return !now.isBefore(i.started.plus(startDelay));
    }

    List<ServiceStatus> status() {
      List<InstanceStatus> l = new ArrayList<>();
      for (Inst i : instances.values()) {
        l.add(
            new InstanceStatus(
                i.id,
                "shop",
                0,
                1000,
                0,
                ready(i) ? "running" : "starting", // as the instance controller reports it
                ready(i),
                i.started,
                0,
                "t",
                "v1"));
      }
      return List.of(new ServiceStatus("shop", "v1", "running", desired(), 0, 1, l));
    }

    /** One simulated second: instances follow the desired count, serve the load, burn CPU. */
    void second(Autoscaler a) {
      now = now.plusSeconds(1);
      int want = desired();
      while (instances.size() < want) {
        String id = "shop-" + next++;
        instances.put(id, new Inst(id, now));
      }
      if (instances.size() > want) {
        List<String> newest =
            instances.values().stream()
                .sorted((x, y) -> y.started.compareTo(x.started))
                .map(i -> i.id)
                .limit(instances.size() - want)
                .toList();
        newest.forEach(instances::remove);
      }
      List<Inst> ready = instances.values().stream().filter(this::ready).toList();
      double rps = load.applyAsDouble(Duration.between(T0, now).toSeconds());
      if (ready.isEmpty()) {
        cold += rps;
      }
      for (Inst i : instances.values()) {
        double share = ready.contains(i) ? rps / ready.size() : 0;
        i.requests += share;
        i.cpu += cpuModel.cores(Duration.between(i.started, now).toSeconds(), share);
      }
      peak = Math.max(peak, want);
      a.tick();
    }

    void run(Autoscaler a, int seconds) {
      for (int s = 0; s < seconds; s++) {
        second(a);
      }
    }

    List<NewEvent> scaled() {
      return events.stream().filter(e -> e.type().equals("Scaled")).toList();
    }

    @Override
    public Map<String, Load> load(Collection<String> ids) {
      Map<String, Load> m = new HashMap<>();
      if (measured) {
        for (String id : ids) {
          Inst i = instances.get(id);
          if (i != null) {
            m.put(id, new Load((long) i.requests, 0));
          }
        }
      }
      return m;
    }

    @Override
    public Map<String, Usage> usage(Collection<InstanceStatus> list) {
      Map<String, Usage> m = new HashMap<>();
      for (InstanceStatus s : list) {
        Inst i = instances.get(s.id());
        if (i != null && measured) {
          m.put(s.id(), new Usage(i.cpu, 100L << 20));
        }
      }
      return m;
    }

    /** Requests that found no ready instance (the load balancer held them). */
    double cold;

    @Override
    public java.util.OptionalLong coldRequests(String route) {
      return java.util.OptionalLong.of((long) cold);
    }

    @Override
    public OptionalDouble latencyP99Ms(Set<String> ids, Duration window) {
      return OptionalDouble.empty();
    }

    /** The store's answer to a query at a time (the history a forecast reads). */
    java.util.function.BiFunction<String, Instant, OptionalDouble> history =
        (q, at) -> OptionalDouble.empty();

    @Override
    public OptionalDouble query(String promql, Instant at) {
      return history.apply(promql, at);
    }
  }

  private static Autoscale rps(int min, int max, Autoscale.Behavior down, Autoscale.Fallback f) {
    return new Autoscale(
        min,
        max,
        List.of(new Autoscale.Target.RequestsPerSecond(50)),
        null,
        null,
        down,
        Duration.ofSeconds(30),
        f);
  }

  @Test
  void aLoadStepFrom20To300_isDecidedWithin5s_andCapacityFollows() {
    Sim sim = new Sim(rps(1, 10, null, null));
    sim.load = t -> t < 60 ? 20 : 300;
    Autoscaler a = sim.autoscaler();
    sim.run(a, 59);
    assertThat(sim.scaled()).as("20 req/s fits one instance").isEmpty();
    sim.run(a, 6); // the load steps at t = 60 s
    assertThat(sim.scaled()).isNotEmpty();
    Instant decided = sim.scaled().get(0).at();
    assertThat(Duration.between(T0.plusSeconds(60), decided))
        .isLessThanOrEqualTo(Duration.ofSeconds(5));
    assertThat(sim.scaled().get(0).fields()).containsEntry("from", "1");
    // 300 req/s at 50 per instance: 6, reached within one more 15 s policy period.
    sim.run(a, 30);
    assertThat(sim.desired()).isEqualTo(6);
    assertThat(a.explain("shop").orElseThrow().targets().get(0).proposal()).isEqualTo(6);
  }

  @Test
  void onKubernetesWithTheHpaAutoscaler_theDaemonDecidesNothing() {
    Sim sim = new Sim(rps(1, 10, null, null));
    sim.load = t -> 300;
    dev.pilothouse.core.spec.RuntimeSpec hpa =
        new dev.pilothouse.core.spec.RuntimeSpec(
            dev.pilothouse.core.spec.RuntimeSpec.Kind.KUBERNETES, "shop", "", "", "", true);
    Autoscaler a =
        new Autoscaler(
            new Autoscaler.Options(
                () -> new Spec(List.of(sim.spec)).withRuntime(hpa),
                sim::status,
                sim,
                s -> false,
                sim.repo,
                () -> sim.now));
    sim.run(a, 60);
    assertThat(sim.scaled()).as("the HorizontalPodAutoscaler decides").isEmpty();
    assertThat(sim.desired()).isEqualTo(1);
  }

  @Test
  void loadOscillatingAroundTheThreshold_doesNotFlap() {
    // 2 instances carry 100 req/s at target; the load swings 80 <-> 120 every 10 s for 10 min.
    Sim sim = new Sim(rps(1, 10, null, null));
    sim.spec = sim.spec.withReplicas(2);
    sim.load = t -> (t / 10) % 2 == 0 ? 80 : 120;
    Autoscaler a = sim.autoscaler();
    sim.run(a, 600);
    // Up to 3 on the first peak, then the 5-minute scale-down window holds it there.
    assertThat(sim.scaled()).hasSizeLessThanOrEqualTo(1);
    assertThat(sim.desired()).isEqualTo(3);
  }

  @Test
  void aJvmWhoseStartupBurnsCpu_doesNotRunAway_whileWarmingUp() {
    // Each instance burns a whole core for its first 20 s (class loading, JIT), then uses CPU in
    // proportion to its requests. Target: 70% of 0.5 cores. The load needs 3 instances.
    Sim withWarmup = startupSpike(Duration.ofSeconds(30));
    assertThat(withWarmup.peak).isEqualTo(3);
    // A warmup just past the burn: the rate window must not reach back into it.
    assertThat(startupSpike(Duration.ofSeconds(22)).peak).isEqualTo(3);
    // The same service with no warmup counts the start-up spike as load and runs away.
    Sim without = startupSpike(Duration.ZERO);
    assertThat(without.peak).isGreaterThan(3);
  }

  @Test
  void anInstanceStillStartingOrWarming_isNamedAsNotTrusted_andTheCountSettlesWithoutOvershoot() {
    Autoscale a =
        new Autoscale(
            1,
            10,
            List.of(new Autoscale.Target.Cpu(50), new Autoscale.Target.Memory(90)),
            null,
            null,
            null,
            null, // the default warmup: 30 s after an instance becomes ready
            null);
    Sim sim = new Sim(a);
    sim.startDelay = Duration.ofSeconds(10);
    sim.cpuModel = (age, rps) -> rps * 0.005; // 50 req/s: 0.25 cores, the target (50% of 0.5)
    sim.load = t -> 150; // three instances' worth
    Autoscaler as = sim.autoscaler();
    sim.run(as, 2); // the one instance started a second ago and is not ready yet
    Decision first = as.explain("shop").orElseThrow();
    assertThat(first.state()).isEqualTo("waiting");
    assertThat(first.targets())
        .extracting(Decision.Reading::note)
        .containsOnly("1 instance(s) not ready or warming up, not trusted");
    for (int s = 0; s < 120; s++) {
      sim.second(as);
      Instant now = sim.now;
      long untrusted =
          sim.instances.values().stream()
              .filter(i -> now.isBefore(i.started.plus(sim.startDelay).plusSeconds(30)))
              .count();
      String note = as.explain("shop").orElseThrow().targets().get(0).note();
      if (untrusted > 0) {
        assertThat(note)
            .as("at %s", now)
            .isEqualTo(untrusted + " instance(s) not ready or warming up, not trusted");
      } else {
        assertThat(note).as("at %s", now).doesNotContain("not trusted");
      }
    }
    assertThat(sim.peak).isEqualTo(3);
    assertThat(sim.desired()).isEqualTo(3);
  }

  private static Sim startupSpike(Duration warmup) {
    Autoscale a =
        new Autoscale(1, 20, List.of(new Autoscale.Target.Cpu(70)), null, null, null, warmup, null);
    Sim sim = new Sim(a);
    sim.spec = sim.spec.withReplicas(2);
    sim.cpuModel = (age, rps) -> age < 20 ? 1.0 : rps * 0.0035; // 100 req/s = 0.35 cores = 70%
    sim.load = t -> t < 120 ? 200 : 290; // 290 req/s needs ceil(290 / 100) = 3
    Autoscaler as = sim.autoscaler();
    sim.run(as, 300);
    return sim;
  }

  @Test
  void duringARollout_theCountIsFrozen_andFollowsTheLoadAfterIt() {
    Sim sim = new Sim(rps(1, 10, null, null));
    sim.rollout = true;
    sim.load = t -> 300;
    Autoscaler a = sim.autoscaler();
    sim.run(a, 30);
    assertThat(sim.scaled()).isEmpty();
    assertThat(a.explain("shop").orElseThrow().state()).isEqualTo("frozen");
    sim.rollout = false;
    sim.run(a, 3);
    assertThat(sim.desired()).isGreaterThan(1);
  }

  @Test
  void missingMeasurements_neverScaleDown_andTheFallbackAppliesAfterItsDelay() {
    Sim sim = new Sim(rps(1, 10, null, null));
    sim.spec = sim.spec.withReplicas(4);
    sim.measured = false;
    Autoscaler a = sim.autoscaler();
    sim.run(a, 400);
    assertThat(sim.desired()).isEqualTo(4);
    assertThat(a.explain("shop").orElseThrow().state()).isEqualTo("waiting");

    Sim fb = new Sim(rps(1, 10, null, new Autoscale.Fallback(Duration.ofSeconds(10), 2)));
    fb.spec = fb.spec.withReplicas(4);
    fb.measured = false;
    Autoscaler b = fb.autoscaler();
    fb.run(b, 9);
    assertThat(fb.desired()).isEqualTo(4);
    fb.run(b, 3);
    assertThat(fb.desired()).isEqualTo(2);
    assertThat(fb.scaled().get(0).fields()).containsEntry("state", "fallback");
  }

  @Test
  void measurementsThatStop_areNotUsedAsTheyWereBeforeTheGap_andTheFallbackApplies() {
    Sim sim = new Sim(rps(1, 10, null, new Autoscale.Fallback(Duration.ofSeconds(20), 3)));
    sim.load = t -> t < 60 ? 20 : 300;
    Autoscaler a = sim.autoscaler();
    sim.run(a, 61); // the step is seen and the scale-up begins
    sim.measured = false; // then the load balancer stops reporting (restarting, say)
    sim.run(a, 5);
    int duringTheGap = sim.desired();
    sim.run(a, 10); // within the fallback's delay: no change either way
    Decision waiting = a.explain("shop").orElseThrow();
    assertThat(waiting.state()).isEqualTo("waiting");
    assertThat(waiting.targets().get(0).note()).isEqualTo("no requests measured");
    assertThat(sim.desired()).isEqualTo(duringTheGap);
    // Unmeasured from the first tick with no sample in the 5 s window (t = 67 s); 20 s later:
    sim.run(a, 12);
    assertThat(a.explain("shop").orElseThrow().state()).isEqualTo("fallback");
    assertThat(sim.desired()).isEqualTo(3);
  }

  @Test
  void aRestartedAutoscaler_keepsTheStoredCount_andDoesNotShrinkAtOnce() {
    Sim sim = new Sim(rps(1, 10, null, null));
    sim.load = t -> 300;
    Autoscaler first = sim.autoscaler();
    sim.run(first, 40);
    assertThat(sim.desired()).isEqualTo(6);
    sim.load = t -> 0;
    Autoscaler second = sim.autoscaler(); // a new daemon, the same store
    sim.run(second, 60);
    assertThat(sim.desired()).as("within the 5-minute window after the restart").isEqualTo(6);
    sim.run(second, 300);
    assertThat(sim.desired()).isEqualTo(1);
  }

  @Test
  void scaleDownPolicy_limitsEachStep_andEveryChangeIsAnEventWithItsReason() {
    Autoscale.Behavior down =
        new Autoscale.Behavior(
            Duration.ZERO,
            List.of(
                new Autoscale.Policy(Autoscale.Policy.Kind.PERCENT, 50, Duration.ofSeconds(60))),
            Autoscale.Behavior.Select.MAX);
    Sim sim = new Sim(rps(1, 10, down, null));
    sim.spec = sim.spec.withReplicas(8);
    sim.load = t -> 0;
    Autoscaler a = sim.autoscaler();
    sim.run(a, 3); // started at 1 s, ready at 3 s: no rate before a second sample
    assertThat(sim.desired()).isEqualTo(8);
    sim.run(a, 1);
    assertThat(sim.desired()).isEqualTo(4);
    sim.run(a, 58);
    assertThat(sim.desired()).isEqualTo(4);
    sim.run(a, 2);
    assertThat(sim.desired()).isEqualTo(2);
    NewEvent e = sim.scaled().get(0);
    assertThat(e.service()).isEqualTo("shop");
    assertThat(e.fields()).containsEntry("from", "8").containsEntry("to", "4");
    assertThat(e.fields().get("limited_by")).isEqualTo("scaleDown policy 50% per 1m (from 8)");
    assertThat(e.message()).startsWith("scaled shop from 8 to 4: scale down: requestsPerSecond 0");
  }

  @Test
  void aSchedule_raisesTheFloorAtItsTime_inItsTimeZone_untilTheDayEnds() {
    Autoscale a =
        new Autoscale(
            1,
            10,
            List.of(new Autoscale.Target.RequestsPerSecond(50)),
            null,
            null,
            null,
            Duration.ofSeconds(30),
            null,
            List.of(new Autoscale.Schedule("0 8 * * MON-FRI", null, 4, 0)),
            "Europe/Berlin",
            null);
    Sim sim = new Sim(a);
    sim.now = Instant.parse("2026-11-30T06:58:00Z"); // Monday 07:58 in Berlin
    Autoscaler as = sim.autoscaler();
    sim.run(as, 60);
    assertThat(sim.desired()).isEqualTo(1);
    sim.run(as, 61); // 08:00 in Berlin has passed
    assertThat(sim.desired()).isEqualTo(4);
    Decision d = as.explain("shop").orElseThrow();
    assertThat(d.floor()).isEqualTo(4);
    assertThat(d.bounds()).isEqualTo("schedule '0 8 * * MON-FRI' min 4");
    assertThat(sim.scaled().get(0).fields().get("reason"))
        .isEqualTo("scale up: schedule '0 8 * * MON-FRI' min 4");
    // Midnight in Berlin ends it; the scale-down window then lets the idle service shrink.
    sim.now = Instant.parse("2026-11-30T22:59:30Z");
    sim.run(as, 60);
    assertThat(as.explain("shop").orElseThrow().floor()).isEqualTo(1);
    sim.run(as, 301);
    assertThat(sim.desired()).isEqualTo(1);
    // Saturday morning: no floor.
    sim.now = Instant.parse("2026-12-05T07:30:00Z");
    sim.run(as, 5);
    assertThat(as.explain("shop").orElseThrow().floor()).isEqualTo(1);
  }

  @Test
  void aForecast_raisesTheFloorAheadOfAKnownPeak_orOnlyShowsIt() {
    for (boolean apply : new boolean[] {false, true}) {
      Autoscale a =
          new Autoscale(
              1,
              10,
              List.of(new Autoscale.Target.RequestsPerSecond(50)),
              null,
              null,
              null,
              Duration.ofSeconds(30),
              null,
              List.of(),
              "UTC",
              new Autoscale.Predictive(apply, Duration.ofMinutes(10)));
      Sim sim = new Sim(a);
      // The last weeks' history: 240 req/s in the ten minutes ahead, every week.
      sim.history =
          (q, at) ->
              q.startsWith(
                          "max_over_time(sum(rate(pilothouse_proxy_requests_total{service=\"shop\"}")
                      && at.isBefore(T0)
                  ? OptionalDouble.of(240)
                  : OptionalDouble.empty();
      Autoscaler as = sim.autoscaler();
      sim.run(as, 3);
      Decision d = as.explain("shop").orElseThrow();
      assertThat(d.prediction().expected()).isEqualTo(240);
      assertThat(d.prediction().basis()).isEqualTo("weekly");
      assertThat(d.prediction().floor()).isEqualTo(5);
      assertThat(sim.desired()).isEqualTo(apply ? 5 : 1);
      assertThat(d.prediction().mode()).isEqualTo(apply ? "on" : "forecast-only");
    }
  }

  @Test
  void aForecastOfADailyCycle_followsItsPeakAndTrough_fromFiveDaysOfHistory() {
    // 175 +- 125 req/s over the day, peaking at 12:00 UTC; five days of history before T0.
    java.util.function.DoubleUnaryOperator rate =
        sec -> 175 + 125 * Math.cos(2 * Math.PI * (sec / 86_400.0 - 0.5));
    Instant historyStart = T0.minus(Duration.ofDays(5)).minusSeconds(8 * 3600);
    Autoscale a =
        new Autoscale(
            1,
            10,
            List.of(new Autoscale.Target.RequestsPerSecond(50)),
            null,
            null,
            null,
            Duration.ofSeconds(30),
            null,
            List.of(),
            "UTC",
            new Autoscale.Predictive(false, Duration.ofMinutes(10)));
    for (String time : new String[] {"11:55", "03:00"}) {
      Sim sim = new Sim(a);
      sim.now = Instant.parse("2026-11-30T" + time + ":00Z");
      Instant until = sim.now;
      sim.history =
          (q, at) -> {
            if (at.isBefore(historyStart) || !at.isBefore(until)) {
              return OptionalDouble.empty();
            }
            double peak = 0; // max_over_time of the last 10 minutes, minute by minute
            for (int m = 0; m <= 10; m++) {
              long sec =
                  at.minusSeconds(60L * m)
                      .atZone(java.time.ZoneOffset.UTC)
                      .toLocalTime()
                      .toSecondOfDay();
              peak = Math.max(peak, rate.applyAsDouble(sec));
            }
            return OptionalDouble.of(peak);
          };
      Autoscaler as = sim.autoscaler();
      sim.run(as, 2);
      Decision.Prediction p = as.explain("shop").orElseThrow().prediction();
      assertThat(p.basis()).isEqualTo("daily");
      assertThat(p.samples()).isEqualTo(5);
      assertThat(p.floor()).isEqualTo(time.equals("11:55") ? 6 : 2);
    }
  }

  @Test
  void scaleToZero_goesDownToOneFirst_toNoneAfterTheCooldown_andARequestWakesItAtOnce() {
    Autoscale a =
        new Autoscale(
            0,
            5,
            List.of(new Autoscale.Target.RequestsPerSecond(50)),
            null,
            null,
            null,
            Duration.ofSeconds(30),
            null,
            List.of(),
            "UTC",
            null,
            new Autoscale.ScaleToZero(Duration.ofSeconds(600), Duration.ofSeconds(30), 1000));
    Sim sim = new Sim(a);
    sim.spec = sim.spec.withReplicas(2);
    sim.load = t -> t < 30 ? 100 : t < 1000 ? 0 : 20;
    Autoscaler as = sim.autoscaler();
    sim.run(as, 400); // the 5-minute scale-down window has passed; the 10-minute cooldown has not
    assertThat(sim.desired()).as("down to one first").isEqualTo(1);
    sim.run(as, 225);
    assertThat(sim.desired()).as("600 s after the last request").isEqualTo(1);
    sim.run(as, 10);
    assertThat(sim.desired()).as("to none after the cooldown").isZero();
    assertThat(sim.scaled())
        .extracting(e -> e.fields().get("from") + "->" + e.fields().get("to"))
        .containsExactly("2->1", "1->0");
    assertThat(as.explain("shop").orElseThrow().state()).isEqualTo("idle");
    sim.run(as, 400); // requests return at t = 1000 s
    List<NewEvent> woke =
        sim.scaled().stream().filter(e -> e.fields().get("state").equals("waking")).toList();
    assertThat(woke).hasSize(1);
    assertThat(Duration.between(T0.plusSeconds(1000), woke.get(0).at()))
        .isLessThanOrEqualTo(Duration.ofSeconds(1));
    assertThat(sim.desired()).isEqualTo(1);
  }
}
