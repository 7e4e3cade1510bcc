package dev.pilothouse.chaos;

import dev.pilothouse.core.chaos.ChaosExperiment.Phase;
import dev.pilothouse.core.chaos.ChaosExperiment.Probe;
import dev.pilothouse.core.chaos.ChaosRun.Sample;
import dev.pilothouse.core.instance.InstanceStatus;
import dev.pilothouse.core.instance.ServiceStatus;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.InstantSource;
import java.util.List;
import java.util.function.Supplier;

/** Evaluates steady-state probes: PromQL within tolerance, an HTTP answer, ready instances. */
final class Probes {
  private final Metrics metrics;
  private final Supplier<List<ServiceStatus>> status;
  private final InstantSource clock;
  private final HttpClient http =
      HttpClient.newBuilder()
          .connectTimeout(java.time.Duration.ofSeconds(2))
          .followRedirects(HttpClient.Redirect.NEVER)
          .build();

  Probes(Metrics metrics, Supplier<List<ServiceStatus>> status, InstantSource clock) {
    this.metrics = metrics;
    this.status = status;
    this.clock = clock;
  }

  Sample evaluate(Probe p, Phase phase) {
    double v;
    String note = "";
    try {
      v =
          switch (p.kind()) {
            case PROMQL -> metrics.instant(p.query());
            case HTTP -> http(p);
            case READY -> ready(p.query());
          };
      if (Double.isNaN(v)) {
        note = "no value";
      }
    } catch (IllegalArgumentException | IOException e) {
      v = Double.NaN;
      note = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      v = Double.NaN;
      note = "interrupted";
    }
    if (note.length() > 200) {
      note = note.substring(0, 200) + "…";
    }
    return new Sample(p.name(), phase, clock.instant(), v, p.within(v), note);
  }

  private double http(Probe p) throws IOException, InterruptedException {
    try {
      HttpResponse<Void> r =
          http.send(
              HttpRequest.newBuilder(URI.create(p.query())).timeout(p.timeout()).build(),
              HttpResponse.BodyHandlers.discarding());
      return r.statusCode();
    } catch (java.net.http.HttpTimeoutException e) {
      throw new IOException("no answer within " + p.timeout().toMillis() + " ms", e);
    } catch (java.net.ConnectException e) {
      throw new IOException("connection refused", e);
    }
  }

  private double ready(String service) {
    return status.get().stream()
        .filter(s -> s.name().equals(service))
        .flatMap(s -> s.instances().stream())
        .filter(InstanceStatus::serving)
        .count();
  }
}
