package dev.pilothouse.core.rollout;

import dev.pilothouse.core.analysis.Verdict;
import dev.pilothouse.core.instance.InstanceStatus;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Strategy;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/** What the rollout controller needs from the rest of the system. */
public final class Ports {
  private Ports() {}

  /** The instances: run a canary beside the stable ones, apply a desired state. */
  public interface Fleet {
    void setCanary(String service, ServiceSpec canary, int count);

    void clearCanary(String service);

    Optional<String> canaryTemplate(String service);

    boolean canaryCrashLooping(String service);

    /** Whether any of the service's (stable) instances has given up restarting. */
    boolean crashLooping(String service);

    /**
     * The service's rollout was promoted: its canary spec becomes its spec, the canary instances
     * its instances (the desired state follows from the stored rollout; see core.deploy).
     */
    void promote(String service);

    List<InstanceStatus> instances(String service);
  }

  /** Traffic that instances served: counts and latencies since a moment. */
  public interface Measurements {
    /** Requests, failures (5xx and no answer) and latencies of these instances since since. */
    Sample window(Set<String> instanceIds, Instant since);
  }

  /** One side of a comparison. */
  public record Sample(long requests, long failures, double[] latenciesMs) {}

  /**
   * Checks that run outside the controller (they do I/O): smoke tests against the new version,
   * custom checks, and the load generator. Results arrive as verdicts, one per test or check.
   */
  public interface Checks {
    /**
     * Sends each smoke test to the new version of service through the load balancer, targeted by
     * the preview header.
     */
    CompletableFuture<List<Verdict>> smoke(String service, List<Strategy.SmokeTest> tests);

    /** Runs the custom checks of an analysis step of rollout. */
    CompletableFuture<List<Verdict>> custom(Rollout rollout, List<Strategy.Check> checks);

    /** Sends load through the service's route for a while (an analysis short of traffic). */
    void drive(String service, Strategy.Load load, Duration duration);

    /**
     * Asks the gates (webhooks) of rollout; one verdict per gate, PASS for a yes. Without a gate
     * runner every gate fails (it cannot say yes).
     */
    default CompletableFuture<List<Verdict>> gates(Rollout rollout, List<Strategy.Gate> gates) {
      return CompletableFuture.failedFuture(new UnsupportedOperationException("no gate runner"));
    }

    /** Checks that are never configured: every call fails loudly. */
    static Checks none() {
      return new Checks() {
        @Override
        public CompletableFuture<List<Verdict>> smoke(
            String service, List<Strategy.SmokeTest> tests) {
          return CompletableFuture.failedFuture(
              new UnsupportedOperationException("no smoke tester"));
        }

        @Override
        public CompletableFuture<List<Verdict>> custom(
            Rollout rollout, List<Strategy.Check> checks) {
          return CompletableFuture.failedFuture(
              new UnsupportedOperationException("no check runner"));
        }

        @Override
        public void drive(String service, Strategy.Load load, Duration duration) {}
      };
    }
  }

  /** Keeps rollouts across daemon restarts. */
  public interface RolloutStore {
    void saveRollout(Rollout rollout);

    /** The newest rollout of each service. */
    List<Rollout> rollouts();
  }
}
