package dev.pilothouse.scaling;

import static java.util.Objects.requireNonNull;

import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.instance.InstanceStatus;
import dev.pilothouse.core.instance.ServiceStatus;
import dev.pilothouse.core.scaling.ScaleRepository;
import dev.pilothouse.core.scaling.ScaleState;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The autoscaler: once per {@link #tick} (every second) it measures each service that declares
 * {@code autoscale}, decides its count as Kubernetes' HPA would, and stores a changed count with a
 * {@code Scaled} event. It never calls the deploy machinery: the desired state reads the stored
 * count ({@link ScaleRepository}) in place of the declared replicas.
 */
public final class Autoscaler {
  /**
   * What the autoscaler reads and writes.
   *
   * @param desired the desired state in force
   * @param observed the instances as they run
   * @param rolloutUnderWay whether a service's rollout is under way (its count is frozen)
   */
  public record Options(
      Supplier<Spec> desired,
      Supplier<List<ServiceStatus>> observed,
      Signals signals,
      Predicate<String> rolloutUnderWay,
      ScaleRepository scales,
      InstantSource clock) {
    public Options {
      requireNonNull(desired, "desired");
      requireNonNull(observed, "observed");
      requireNonNull(signals, "signals");
      requireNonNull(rolloutUnderWay, "rolloutUnderWay");
      requireNonNull(scales, "scales");
      requireNonNull(clock, "clock");
    }
  }

  private final Options o;
  private final Map<String, ServiceScaler> scalers = new HashMap<>();
  private final Map<String, Decision> decisions = new ConcurrentHashMap<>();

  public Autoscaler(Options options) {
    this.o = requireNonNull(options, "options");
  }

  /** Measures and decides every autoscaled service once. */
  public synchronized void tick() {
    Instant now = o.clock().instant();
    Spec spec = o.desired().get();
    Map<String, ScaleState> chosen = o.scales().scales();
    Map<String, List<InstanceStatus>> instances = new HashMap<>();
    for (ServiceStatus st : o.observed().get()) {
      instances.put(st.name(), st.instances());
    }
    Set<String> autoscaled = new HashSet<>();
    for (ServiceSpec s : spec.services()) {
      if (s.autoscale() == null || spec.runtime().hpa()) { // hpa: the cluster's autoscaler decides
        continue;
      }
      autoscaled.add(s.name());
      ScaleState stored = chosen.get(s.name());
      int current = s.autoscale().clamp(stored == null ? s.replicas() : stored.replicas());
      ServiceScaler scaler =
          scalers.computeIfAbsent(s.name(), n -> new ServiceScaler(n, now, current));
      Decision d =
          scaler.decide(
              now,
              s,
              instances.getOrDefault(s.name(), List.of()),
              current,
              o.rolloutUnderWay().test(s.name()),
              o.signals());
      decisions.put(s.name(), d);
      if (d.desired() != current) {
        save(now, s.name(), current, d);
        scaler.changed(now, current, d.desired());
      } else if (stored != null && stored.replicas() != current) {
        save(now, s.name(), stored.replicas(), d); // min or max moved past the stored count
      }
    }
    for (String name : List.copyOf(scalers.keySet())) {
      if (!autoscaled.contains(name)) {
        scalers.remove(name);
        decisions.remove(name);
      }
    }
    for (String name : chosen.keySet()) {
      if (!autoscaled.contains(name)) {
        o.scales().deleteScale(name);
      }
    }
  }

  private void save(Instant now, String service, int from, Decision d) {
    String message =
        "scaled " + service + " from " + from + " to " + d.desired() + ": " + d.reason();
    o.scales()
        .saveScale(
            new ScaleState(service, d.desired(), now, d.reason()),
            new NewEvent(
                now,
                "Scaled",
                service,
                "",
                message,
                Map.of(
                    "from", Integer.toString(from),
                    "to", Integer.toString(d.desired()),
                    "reason", d.reason(),
                    "state", d.state(),
                    "limited_by", d.limitedBy())));
  }

  /** The latest decision for a service, with each target's measurement and proposal. */
  public Optional<Decision> explain(String service) {
    return Optional.ofNullable(decisions.get(service));
  }

  /** The latest decision of every autoscaled service. */
  public Map<String, Decision> decisions() {
    return Map.copyOf(decisions);
  }
}
