package dev.pilothouse.alerting;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The metrics store as rules use it: instant queries in, recorded series out. */
public interface RuleStore {
  /**
   * A sample of an instant vector (a scalar is one sample without labels).
   *
   * @param labels the series' labels, {@code __name__} included when it has one
   */
  record Sample(Map<String, String> labels, double value) {
    public Sample {
      labels = Map.copyOf(labels);
    }
  }

  /**
   * The instant result of a PromQL expression at a moment.
   *
   * @throws RuntimeException naming what is wrong with the expression or its evaluation
   */
  List<Sample> query(String expression, Instant at);

  /** Stores samples at a moment (each sample's labels name its series, {@code __name__} too). */
  void append(List<Sample> samples, Instant at);
}
