package dev.pilothouse.client.load;

import java.util.Map;

/**
 * What a load run measured. Latencies are from each request's intended start (constant rate), so a
 * slow server cannot hide queueing delay (coordinated omission is corrected).
 *
 * @param requests requests answered (any status)
 * @param errors requests that got no answer: connect failures, resets, timeouts, never sent
 * @param status answers by HTTP status code
 * @param latencyMs percentiles p50, p90, p99, p999, max and mean, in milliseconds
 */
public record LoadResult(
    long requests,
    long errors,
    Map<String, Long> status,
    Map<String, Double> latencyMs,
    double durationS,
    double rate,
    double achievedRps,
    int connections) {

  /** Answers with status 500 and above. */
  public long serverErrors() {
    return status.entrySet().stream()
        .filter(e -> e.getKey().startsWith("5"))
        .mapToLong(Map.Entry::getValue)
        .sum();
  }
}
