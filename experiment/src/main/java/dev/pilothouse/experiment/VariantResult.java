package dev.pilothouse.experiment;

import java.util.Map;

/**
 * What one variant served since the experiment started, from the load balancer's series in the
 * metrics store, and its custom metrics.
 *
 * @param latencyVarianceMs2 estimated from the latency histogram's buckets (their midpoints)
 * @param metrics custom metric name to its value over the window (e.g. conversions)
 */
public record VariantResult(
    String name,
    String service,
    String version,
    int weight,
    double requests,
    double failures,
    double latencyMeanMs,
    double latencyVarianceMs2,
    double latencyP99Ms,
    Map<String, Double> metrics) {

  /** Failures per request (NaN without requests). */
  public double errorRate() {
    return requests > 0 ? failures / requests : Double.NaN;
  }

  /** A custom metric per request of this variant (NaN without requests). */
  public double perRequest(String metric) {
    Double v = metrics.get(metric);
    return v == null || requests <= 0 ? Double.NaN : v / requests;
  }
}
