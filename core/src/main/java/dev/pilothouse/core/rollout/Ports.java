package dev.pilothouse.core.rollout;

import dev.pilothouse.core.instance.InstanceStatus;
import dev.pilothouse.core.spec.ServiceSpec;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** What the rollout controller needs from the rest of the system. */
public final class Ports {
  private Ports() {}

  /** The instances: run a canary beside the stable ones, apply a desired state. */
  public interface Fleet {
    void setCanary(String service, ServiceSpec canary, int count);

    void clearCanary(String service);

    Optional<String> canaryTemplate(String service);

    boolean canaryCrashLooping(String service);

    /** The service's rollout was promoted: its stable instances move to the new version. */
    void promote(String service);

    /** The service's rollout was rolled back: the desired state returns to the stable spec. */
    void revert(String service, ServiceSpec stable);

    List<InstanceStatus> instances(String service);
  }

  /** Traffic that instances served: counts and latencies since a moment. */
  public interface Measurements {
    /** Requests, failures (5xx and no answer) and latencies of these instances since since. */
    Sample window(Set<String> instanceIds, Instant since);
  }

  /** One side of a comparison. */
  public record Sample(long requests, long failures, double[] latenciesMs) {}

  /** Keeps rollouts across daemon restarts. */
  public interface RolloutStore {
    void saveRollout(Rollout rollout);

    /** The newest rollout of each service. */
    List<Rollout> rollouts();
  }
}
