package dev.pilothouse.bench;

import dev.pilothouse.core.instance.InstanceController;
import dev.pilothouse.core.instance.InstanceStatus;
import dev.pilothouse.core.rollout.Ports;
import dev.pilothouse.core.rollout.Rollout;
import dev.pilothouse.core.rollout.RolloutController;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.core.spec.Strategy;
import dev.pilothouse.core.traffic.Split;
import dev.pilothouse.core.traffic.TrafficSplitter;
import dev.pilothouse.spec.ParsedSpec;
import dev.pilothouse.spec.SpecParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Runs the shipped rollout controller (its statistics, its steps, its looks) in virtual time over
 * simulated traffic: many rollouts in seconds. The only stand-ins are the instances and the
 * requests: 50 requests/s through a route (as in the README's demo), each sent to the canary with
 * the current weight, failing with a side's error rate, with a latency drawn from a log-normal
 * (median 12 ms, sigma 0.6) plus a 1 % tail five times slower (pauses, cold caches).
 *
 * <p>Usage: {@code RolloutSimulation SPEC_V1 SPEC_V2 ROLLOUTS STABLE_ERRORS CANARY_ERRORS}. The
 * strategy is the one the v2 spec declares. Prints one line per outcome and a summary: {@code
 * rollouts=N rolled_back=K rolled_back_pct=P median_rollback_s=S}, where S is the time from the
 * canary's first traffic to its rollback.
 */
public final class RolloutSimulation {
  private static final int REQUESTS_PER_SECOND = 50;
  private static final Duration TICK = Duration.ofMillis(100);

  private RolloutSimulation() {}

  /** One request as the load balancer measured it. */
  private record Request(long atMs, boolean canary, boolean failed, double latencyMs) {}

  public static void main(String[] args) throws Exception {
    Spec v1 = parse(Path.of(args[0]));
    Spec v2 = parse(Path.of(args[1]));
    int rollouts = Integer.parseInt(args[2]);
    double stableErrors = Double.parseDouble(args[3]);
    double canaryErrors = Double.parseDouble(args[4]);
    String service = v2.services().get(0).name();
    Strategy plan = v2.services().get(0).plan();
    SplittableRandom random = new SplittableRandom(20261129);
    int rolledBack = 0;
    List<Double> delays = new ArrayList<>();
    for (int i = 0; i < rollouts; i++) {
      Run run = new Run(v1, v2, service, random.split(), stableErrors, canaryErrors);
      Rollout r = run.rollout(plan);
      if (r.phase() == Rollout.Phase.ROLLED_BACK) {
        rolledBack++;
        if (run.firstCanaryMs >= 0) {
          delays.add((r.stepStartedAt().toEpochMilli() - run.firstCanaryMs) / 1000.0);
        }
      }
    }
    delays.sort(Double::compare);
    double median = delays.isEmpty() ? Double.NaN : delays.get(delays.size() / 2);
    System.out.printf(
        Locale.ROOT,
        "rollouts=%d rolled_back=%d rolled_back_pct=%.2f median_rollback_s=%.1f%n",
        rollouts,
        rolledBack,
        100.0 * rolledBack / rollouts,
        median);
  }

  private static Spec parse(Path file) throws Exception {
    ParsedSpec p =
        SpecParser.parse(
            file.toString(),
            Files.readString(file),
            file.toAbsolutePath().getParent(),
            Map.of("PILOTHOUSE_HOME", "/opt/pilothouse"));
    if (!p.errors().isEmpty()) {
      throw new IllegalArgumentException(file + ": " + p.errors());
    }
    return p.spec().orElseThrow();
  }

  /** One rollout from v1 to v2 over simulated traffic, in virtual time. */
  private static final class Run implements Ports.Fleet, TrafficSplitter, Ports.Measurements {
    final Spec v1;
    final Spec v2;
    final String service;
    final SplittableRandom random;
    final double stableErrors;
    final double canaryErrors;
    final List<Request> requests = new ArrayList<>();
    final List<Rollout> saved = new ArrayList<>();
    Instant now = Instant.parse("2026-11-29T12:00:00Z");
    int canaryCount;
    int weight;
    boolean promoted;
    long firstCanaryMs = -1;

    Run(Spec v1, Spec v2, String service, SplittableRandom random, double stable, double canary) {
      this.v1 = v1;
      this.v2 = v2;
      this.service = service;
      this.random = random;
      this.stableErrors = stable;
      this.canaryErrors = canary;
    }

    Rollout rollout(Strategy plan) {
      RolloutController c =
          RolloutController.create(
              new RolloutController.Options(
                  this,
                  this,
                  this,
                  new Ports.RolloutStore() {
                    @Override
                    public void saveRollout(Rollout rollout) {
                      saved.add(rollout);
                    }

                    @Override
                    public List<Rollout> rollouts() {
                      return List.of();
                    }
                  },
                  e -> {},
                  () -> now,
                  random,
                  Ports.Checks.none()));
      c.start(service, v1, v2, plan);
      for (int t = 0; t < 20 * 60 * 10; t++) { // at most 20 minutes
        traffic();
        now = now.plus(TICK);
        c.tick();
        Rollout r = c.status(service).orElseThrow();
        if (r.phase().done() || r.phase() == Rollout.Phase.PAUSED) {
          return r;
        }
      }
      return c.status(service).orElseThrow();
    }

    /** One tick of requests: 5 at 50 requests/s. */
    void traffic() {
      long ms = now.toEpochMilli();
      int n = (int) (REQUESTS_PER_SECOND * TICK.toMillis() / 1000);
      for (int i = 0; i < n; i++) {
        boolean canary = canaryCount > 0 && weight > 0 && random.nextInt(100) < weight;
        if (canary && firstCanaryMs < 0) {
          firstCanaryMs = ms;
        }
        boolean failed = random.nextDouble() < (canary || promoted ? canaryErrors : stableErrors);
        double latency = 12 * Math.exp(0.6 * random.nextGaussian());
        if (random.nextDouble() < 0.01) {
          latency *= 5;
        }
        requests.add(new Request(ms + i * TICK.toMillis() / n, canary, failed, latency));
      }
    }

    @Override
    public Ports.Sample window(Set<String> ids, Instant since) {
      boolean canary = ids.stream().anyMatch(id -> id.startsWith("canary"));
      boolean stable = ids.stream().anyMatch(id -> id.startsWith("stable"));
      long from = since.toEpochMilli();
      long total = 0;
      long failures = 0;
      List<Double> latencies = new ArrayList<>();
      for (Request r : requests) {
        if (r.atMs() >= from && ((r.canary() && canary) || (!r.canary() && stable))) {
          total++;
          failures += r.failed() ? 1 : 0;
          latencies.add(r.latencyMs());
        }
      }
      return new Ports.Sample(
          total, failures, latencies.stream().mapToDouble(Double::doubleValue).toArray());
    }

    @Override
    public void split(String s, Split split) {
      weight = split.canaryWeight();
    }

    @Override
    public void clear(String s) {
      weight = 0;
    }

    @Override
    public void setCanary(String s, ServiceSpec canary, int count) {
      canaryCount = count;
    }

    @Override
    public void clearCanary(String s) {
      canaryCount = 0;
    }

    @Override
    public Optional<String> canaryTemplate(String s) {
      return canaryCount == 0 ? Optional.empty() : Optional.of(template(v2) + "-canary");
    }

    @Override
    public boolean canaryCrashLooping(String s) {
      return false;
    }

    @Override
    public boolean crashLooping(String s) {
      return false;
    }

    @Override
    public void promote(String s) {
      promoted = true;
    }

    private String template(Spec spec) {
      return spec.service(service).orElseThrow().template();
    }

    @Override
    public List<InstanceStatus> instances(String s) {
      List<InstanceStatus> out = new ArrayList<>();
      String stableTemplate = template(promoted ? v2 : v1);
      for (int i = 0; i < 3; i++) {
        out.add(
            new InstanceStatus(
                "stable-" + i,
                s,
                i,
                100 + i,
                2000 + i,
                "running",
                true,
                Instant.EPOCH,
                0,
                stableTemplate + "-0",
                "v"));
      }
      for (int i = 0; i < canaryCount; i++) {
        out.add(
            new InstanceStatus(
                "canary-" + i,
                s,
                InstanceController.CANARY_SLOT_BASE + i,
                200 + i,
                3000 + i,
                "running",
                true,
                Instant.EPOCH,
                0,
                template(v2) + "-canary",
                "v2"));
      }
      return out;
    }
  }
}
