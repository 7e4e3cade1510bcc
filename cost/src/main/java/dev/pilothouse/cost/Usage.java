package dev.pilothouse.cost;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The metrics store as cost reads and writes it: PromQL instant queries and an appender. */
public interface Usage {
  /** One sample of a query's answer. */
  record Sample(Map<String, String> labels, double value) {}

  /** The samples of a PromQL instant query; empty when it finds nothing or fails. */
  List<Sample> query(String promql, Instant at);

  /** Writes samples (each with its __name__ label) at a time. */
  void append(List<Sample> samples, Instant at);

  /** No store: every query is empty, nothing is written. */
  Usage NONE =
      new Usage() {
        @Override
        public List<Sample> query(String promql, Instant at) {
          return List.of();
        }

        @Override
        public void append(List<Sample> samples, Instant at) {}
      };
}
