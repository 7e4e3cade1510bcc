package dev.pilothouse.core.slo;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A service level objective: the share of a service's requests that must be good over a rolling
 * window. Good means "answered without a 5xx or a proxy error" (availability) or "answered within
 * the threshold" (latency), both measured by the load balancer.
 *
 * @param service the service the load balancer measures
 * @param name unique per service, the {@code slo} label of its series and alerts
 * @param sli what counts as a good request
 * @param objective the target share of good requests, in (0, 1), e.g. 0.999
 * @param window the rolling window the objective holds over (28 or 30 days)
 * @param latencyThreshold for a latency SLI, the time a good request is answered within; null for
 *     availability
 * @param alerts whether the four burn-rate alerts are generated
 * @param labels added to the alerts (routing labels such as team)
 */
public record Slo(
    String service,
    String name,
    Sli sli,
    double objective,
    Duration window,
    Duration latencyThreshold,
    boolean alerts,
    Map<String, String> labels) {
  /** What counts as a good request. */
  public enum Sli {
    AVAILABILITY,
    LATENCY;

    public String wire() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public Slo {
    requireNonNull(service, "service");
    requireNonNull(name, "name");
    requireNonNull(sli, "sli");
    requireNonNull(window, "window");
    if (!(objective > 0 && objective < 1)) {
      throw new IllegalArgumentException("objective must be in (0, 1), but was " + objective);
    }
    if ((sli == Sli.LATENCY) != (latencyThreshold != null)) {
      throw new IllegalArgumentException("a latency SLI, and only it, has a threshold");
    }
    labels = new TreeMap<>(labels == null ? Map.of() : labels);
  }

  /** The share of requests that may be bad: 1 - objective. */
  public double errorBudget() {
    return 1 - objective;
  }
}
