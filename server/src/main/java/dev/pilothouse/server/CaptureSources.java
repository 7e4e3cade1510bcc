package dev.pilothouse.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pilothouse.core.event.Event;
import dev.pilothouse.core.event.EventLog;
import dev.pilothouse.core.instance.Workloads;
import dev.pilothouse.core.runtime.LogFiles;
import dev.pilothouse.security.IncidentCapture;
import dev.pilothouse.tsdb.promql.Value;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What an incident capture reads of the daemon: instances, logs, events and the store's metrics.
 */
final class CaptureSources implements IncidentCapture.Sources {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The service's RED and instance metrics, as the overview shows them. */
  static final List<String> QUERIES =
      List.of(
          "sum by (class) (rate(pilothouse_proxy_requests_total{service=\"%s\"}[1m]))",
          "histogram_quantile(0.99, sum by (le) (rate("
              + "pilothouse_proxy_request_duration_seconds_bucket{service=\"%s\"}[1m])))",
          "sum(pilothouse_proxy_requests_in_flight{service=\"%s\"})",
          "pilothouse_instances{service=\"%s\"}",
          "pilothouse_instances_ready{service=\"%s\"}",
          "up{job=\"%s\"}");

  private final Workloads controller;
  private final LogFiles logs;
  private final EventLog events;
  private final Telemetry telemetry;
  private final InstantSource clock;

  CaptureSources(
      Workloads controller,
      LogFiles logs,
      EventLog events,
      Telemetry telemetry,
      InstantSource clock) {
    this.controller = controller;
    this.logs = logs;
    this.events = events;
    this.telemetry = telemetry;
    this.clock = clock;
  }

  @Override
  public List<IncidentCapture.Target> instances(String service) {
    return controller.status().stream()
        .filter(s -> s.name().equals(service))
        .flatMap(s -> s.instances().stream())
        .map(i -> new IncidentCapture.Target(i.id(), i.pid(), i.port(), i.state()))
        .toList();
  }

  @Override
  public String logTail(String service, String instanceId, int maxBytes) {
    try {
      for (Path f : logs.files(service, Optional.of(instanceId))) {
        if (!Files.exists(f)) {
          continue;
        }
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "r")) {
          long size = raf.length();
          long from = Math.max(0, size - maxBytes);
          raf.seek(from);
          byte[] b = new byte[(int) (size - from)];
          raf.readFully(b);
          return new String(b, StandardCharsets.UTF_8);
        }
      }
      return "(no log)\n";
    } catch (IOException e) {
      return "(not readable: " + e.getMessage() + ")\n";
    }
  }

  @Override
  public List<String> events(String service, int max) {
    List<Event> mine =
        events.latest(20_000).stream().filter(e -> e.service().equals(service)).toList();
    List<String> out = new ArrayList<>();
    for (Event e : mine.subList(Math.max(0, mine.size() - max), mine.size())) {
      try {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("seq", e.seq());
        m.put("at", e.at().toString());
        m.put("type", e.type());
        m.put("service", e.service());
        m.put("instance", e.instance());
        m.put("message", e.message());
        m.put("fields", e.fields());
        out.add(JSON.writeValueAsString(m));
      } catch (JsonProcessingException x) {
        out.add("{\"seq\": " + e.seq() + "}");
      }
    }
    return out;
  }

  @Override
  public String metrics(String service) {
    long end = clock.millis();
    long start = end - Duration.ofMinutes(30).toMillis();
    StringBuilder b = new StringBuilder();
    for (String q : QUERIES) {
      String expr = String.format(q, service);
      b.append("# ").append(expr).append('\n');
      try {
        Value.Matrix m = telemetry.engine().range(expr, start, end, 30_000);
        for (Value.Points p : m.series()) {
          b.append(p.labels()).append('\n');
          for (int i = 0; i < p.t().length; i++) {
            b.append("  ")
                .append(java.time.Instant.ofEpochMilli(p.t()[i]))
                .append(' ')
                .append(p.v()[i])
                .append('\n');
          }
        }
      } catch (RuntimeException e) {
        b.append("(query failed: ").append(e.getMessage()).append(")\n");
      }
    }
    return b.toString();
  }
}
