package dev.pilothouse.proxy;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * RED metrics of one (route, service, version, instance): requests by status class, transport
 * errors, a latency histogram, in-flight requests, retries and ejections, plus a ring of recent
 * samples for statistical analysis.
 */
final class Series {
  /** Histogram upper bounds in seconds (Prometheus {@code le} labels). */
  static final double[] BUCKETS = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30
  };

  private static final long[] BUCKET_MICROS = new long[BUCKETS.length];

  static {
    for (int i = 0; i < BUCKETS.length; i++) {
      BUCKET_MICROS[i] = Math.round(BUCKETS[i] * 1_000_000);
    }
  }

  static final int RING = 4096;

  final String route;
  final String service;
  final String version;
  final String instance;

  /** Index 1..5 for 1xx..5xx; index 0 counts transport errors (no response). */
  final LongAdder[] byClass = new LongAdder[6];

  final LongAdder[] buckets = new LongAdder[BUCKETS.length];
  final LongAdder count = new LongAdder();
  final LongAdder sumMicros = new LongAdder();
  final AtomicInteger inFlight = new AtomicInteger();
  final LongAdder retries = new LongAdder();
  final LongAdder ejections = new LongAdder();
  private final long[] ringEnd = new long[RING];
  private final int[] ringMicros = new int[RING];
  private final short[] ringStatus = new short[RING];
  private final AtomicLong cursor = new AtomicLong();

  Series(String route, String service, String version, String instance) {
    this.route = route;
    this.service = service;
    this.version = version;
    this.instance = instance;
    for (int i = 0; i < byClass.length; i++) {
      byClass[i] = new LongAdder();
    }
    for (int i = 0; i < buckets.length; i++) {
      buckets[i] = new LongAdder();
    }
  }

  /** Records one finished request; status 0 means a transport error (no response). */
  void record(int status, long micros, long endNanos) {
    int cls = status <= 0 ? 0 : Math.min(5, status / 100);
    byClass[cls].increment();
    if (status > 0) {
      count.increment();
      sumMicros.add(micros);
      for (int i = 0; i < BUCKET_MICROS.length; i++) {
        if (micros <= BUCKET_MICROS[i]) {
          buckets[i].increment();
          break; // cumulative counts are summed when rendered
        }
      }
    }
    int slot = (int) (cursor.getAndIncrement() & (RING - 1));
    ringEnd[slot] = endNanos;
    ringMicros[slot] = (int) Math.min(Integer.MAX_VALUE, micros);
    ringStatus[slot] = (short) status;
  }

  /** Copies the recent samples that ended at or after sinceNanos into the sink. */
  void samplesSince(long sinceNanos, Samples sink) {
    long end = cursor.get();
    long start = Math.max(0, end - RING);
    for (long c = start; c < end; c++) {
      int slot = (int) (c & (RING - 1));
      if (ringEnd[slot] - sinceNanos >= 0) {
        sink.accept(ringStatus[slot], ringMicros[slot]);
      }
    }
  }

  /** Receives samples. */
  interface Samples {
    void accept(int status, int micros);
  }
}
