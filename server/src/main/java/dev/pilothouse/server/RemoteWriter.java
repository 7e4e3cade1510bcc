package dev.pilothouse.server;

import dev.pilothouse.tsdb.Labels;
import dev.pilothouse.tsdb.Tsdb;
import dev.pilothouse.tsdb.remote.WriteRequest;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xerial.snappy.Snappy;

/**
 * Ships every sample committed to the store to a Prometheus remote-write receiver (Prometheus,
 * Mimir, VictoriaMetrics...): batches of up to 5000 samples at least once a second, snappy-framed
 * protobuf, retried with exponential backoff on 5xx and network errors, dropped (and counted) on
 * 4xx. A full queue drops its oldest samples, counted too.
 */
final class RemoteWriter implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RemoteWriter.class);
  static final int MAX_QUEUE = 200_000;
  static final int MAX_BATCH = 5_000;

  private record Item(Labels labels, long t, double v) {}

  private final URI url;
  private final String redacted;
  private final ArrayDeque<Item> queue = new ArrayDeque<>();
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final Thread worker;
  private volatile boolean closed;
  final AtomicLong sent = new AtomicLong();
  final AtomicLong dropped = new AtomicLong();
  final AtomicLong failedAttempts = new AtomicLong();

  RemoteWriter(URI url, Tsdb db) {
    this.url = url;
    this.redacted =
        url.getScheme()
            + "://"
            + url.getHost()
            + (url.getPort() > 0 ? ":" + url.getPort() : "")
            + url.getPath();
    db.onCommit(this::offer);
    this.worker = Thread.ofVirtual().name("remote-write").start(this::run);
  }

  URI url() {
    return url;
  }

  private void offer(Tsdb.Batch b) {
    synchronized (queue) {
      for (int i = 0; i < b.n(); i++) {
        if (queue.size() >= MAX_QUEUE) {
          queue.pollFirst();
          dropped.incrementAndGet();
        }
        queue.addLast(new Item(b.labels()[i], b.t()[i], b.v()[i]));
      }
      if (queue.size() >= MAX_BATCH) {
        queue.notifyAll();
      }
    }
  }

  private void run() {
    long backoff = 500;
    List<Item> batch = new ArrayList<>();
    while (!closed) {
      if (batch.isEmpty()) {
        synchronized (queue) {
          if (queue.size() < MAX_BATCH && !closed) {
            try {
              queue.wait(1000);
            } catch (InterruptedException e) {
              return;
            }
          }
          while (!queue.isEmpty() && batch.size() < MAX_BATCH) {
            batch.add(queue.pollFirst());
          }
        }
        if (batch.isEmpty()) {
          continue;
        }
      }
      int status = send(batch);
      if (status / 100 == 2) {
        sent.addAndGet(batch.size());
        batch.clear();
        backoff = 500;
      } else if (status / 100 == 4 && status != 429) {
        log.warn(
            "remote write to {} refused a batch ({}); {} samples dropped",
            redacted,
            status,
            batch.size());
        dropped.addAndGet(batch.size());
        batch.clear();
      } else {
        failedAttempts.incrementAndGet();
        try {
          Thread.sleep(backoff);
        } catch (InterruptedException e) {
          return;
        }
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
  }

  /** POSTs a batch; returns the HTTP status, or 0 when the request did not complete. */
  private int send(List<Item> batch) {
    Map<Labels, List<Item>> bySeries = new LinkedHashMap<>();
    for (Item it : batch) {
      bySeries.computeIfAbsent(it.labels(), k -> new ArrayList<>()).add(it);
    }
    List<WriteRequest.TimeSeries> series = new ArrayList<>();
    bySeries.forEach(
        (l, items) -> {
          long[] t = new long[items.size()];
          double[] v = new double[items.size()];
          for (int i = 0; i < t.length; i++) {
            t[i] = items.get(i).t();
            v[i] = items.get(i).v();
          }
          series.add(new WriteRequest.TimeSeries(l, t, v));
        });
    try {
      byte[] body = Snappy.compress(WriteRequest.encode(series));
      HttpRequest.Builder b =
          HttpRequest.newBuilder(url)
              .timeout(Duration.ofSeconds(30))
              .header("Content-Encoding", "snappy")
              .header("Content-Type", "application/x-protobuf")
              .header("X-Prometheus-Remote-Write-Version", "0.1.0")
              .header("User-Agent", "pilothouse")
              .POST(HttpRequest.BodyPublishers.ofByteArray(body));
      String userInfo = url.getUserInfo();
      if (userInfo != null) {
        b.header(
            "Authorization",
            "Basic "
                + java.util.Base64.getEncoder()
                    .encodeToString(userInfo.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        b.uri(URI.create(url.toString().replace(userInfo + "@", "")));
      }
      return http.send(b.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException e) {
      log.debug("remote write to {} failed: {}", redacted, e.toString());
      return 0;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 0;
    }
  }

  @Override
  public void close() {
    closed = true;
    synchronized (queue) {
      queue.notifyAll();
    }
    worker.interrupt();
  }
}
