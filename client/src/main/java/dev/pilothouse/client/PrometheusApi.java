package dev.pilothouse.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Instant queries against a Prometheus-compatible HTTP API ({@code GET /api/v1/query}): Prometheus,
 * VictoriaMetrics, Mimir, Thanos. Every failure — no answer within the timeout, an HTTP error, the
 * server's own {@code "status": "error"}, an answer over the size bound — is an {@link
 * IllegalArgumentException} that names the endpoint and what it said, so that a rule or check that
 * used it reports why.
 */
public final class PrometheusApi {
  /** The largest answer read (a query of a few series is kilobytes). */
  public static final long MAX_BODY = 16L << 20;

  private static final ObjectMapper JSON = new ObjectMapper();

  /** One series of an instant vector (or the scalar, without labels). */
  public record Sample(Map<String, String> labels, double value) {
    public Sample {
      labels = Map.copyOf(labels);
    }
  }

  private final URI base;
  private final String bearerToken;
  private final Map<String, String> headers;
  private final Duration timeout;
  private final HttpClient http;

  /**
   * @param base the API's root, e.g. {@code http://prometheus:9090} or {@code
   *     http://vm:8428/prometheus}
   * @param bearerToken sent as {@code Authorization: Bearer}, or empty
   * @param headers sent with every query (e.g. Mimir's tenant, {@code X-Scope-OrgID})
   */
  public PrometheusApi(
      URI base, String bearerToken, Map<String, String> headers, Duration timeout) {
    String b = base.toString();
    this.base = URI.create(b.endsWith("/") ? b.substring(0, b.length() - 1) : b);
    this.bearerToken = bearerToken;
    this.headers = Map.copyOf(headers);
    this.timeout = timeout;
    this.http =
        HttpClient.newBuilder()
            .connectTimeout(timeout)
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
  }

  /** The endpoint, for messages (never with credentials: those are not part of it). */
  public URI base() {
    return base;
  }

  /** The value of an expression at a time: an instant vector's series, or one scalar. */
  public List<Sample> query(String expression, Instant at) {
    String t = at.getEpochSecond() + "." + String.format("%03d", at.getNano() / 1_000_000);
    HttpRequest.Builder r =
        HttpRequest.newBuilder(
                URI.create(
                    base
                        + "/api/v1/query?query="
                        + URLEncoder.encode(expression, StandardCharsets.UTF_8)
                        + "&time="
                        + t))
            .timeout(timeout)
            .header("Accept", "application/json");
    headers.forEach(r::header);
    if (!bearerToken.isEmpty()) {
      r.header("Authorization", "Bearer " + bearerToken);
    }
    HttpResponse<InputStream> res;
    try {
      res = http.send(r.GET().build(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "metrics source " + base + " did not answer: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalArgumentException("interrupted while asking " + base, e);
    }
    JsonNode body;
    try (InputStream in = res.body()) {
      byte[] bytes = in.readNBytes((int) MAX_BODY + 1);
      if (bytes.length > MAX_BODY) {
        throw new IllegalArgumentException(
            "metrics source "
                + base
                + " answered more than "
                + (MAX_BODY >> 20)
                + " MiB; aggregate the query (sum by ...)");
      }
      body = JSON.readTree(bytes);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "metrics source " + base + " answered HTTP " + res.statusCode() + " without JSON", e);
    }
    if (body == null || !body.path("status").asText().equals("success")) {
      String why =
          body == null
              ? "an empty answer"
              : body.path("errorType").asText("error") + ": " + body.path("error").asText("");
      throw new IllegalArgumentException(
          "metrics source " + base + " (HTTP " + res.statusCode() + ") refused the query: " + why);
    }
    JsonNode data = body.path("data");
    JsonNode result = data.path("result");
    return switch (data.path("resultType").asText()) {
      case "vector" -> {
        List<Sample> out = new ArrayList<>();
        for (JsonNode s : result) {
          Map<String, String> labels = new LinkedHashMap<>();
          s.path("metric").properties().forEach(e -> labels.put(e.getKey(), e.getValue().asText()));
          out.add(new Sample(labels, PromFloat.parse(s.path("value").path(1).asText())));
        }
        yield out;
      }
      case "scalar" -> List.of(new Sample(Map.of(), PromFloat.parse(result.path(1).asText())));
      default ->
          throw new IllegalArgumentException(
              "metrics source "
                  + base
                  + " gave a "
                  + data.path("resultType").asText()
                  + "; an instant vector or a scalar is needed");
    };
  }
}
