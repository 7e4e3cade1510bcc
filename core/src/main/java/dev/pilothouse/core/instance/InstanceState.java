package dev.pilothouse.core.instance;

import java.util.Locale;

/** Life of an instance process, from start to exit. */
public enum InstanceState {
  /** Started, not yet ready. */
  STARTING,
  /** Has been ready; may be temporarily not ready. */
  RUNNING,
  /** Asked to stop; killed when its stop timeout passes. */
  STOPPING,
  /** Out of traffic and out of the count, kept running for diagnosis until its time is up. */
  QUARANTINED;

  /** The lower-case name used in the API and the store. */
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses a wire name. */
  public static InstanceState ofWire(String s) {
    return valueOf(s.toUpperCase(Locale.ROOT));
  }
}
