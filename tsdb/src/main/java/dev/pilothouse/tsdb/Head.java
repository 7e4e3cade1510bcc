package dev.pilothouse.tsdb;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The in-memory series: lookup by labels, by id, and the postings index (label name → value →
 * sorted series ids) that selects series for queries.
 */
final class Head {
  private final Map<Labels, MemSeries> byLabels = new ConcurrentHashMap<>();
  private final List<MemSeries> byId = new ArrayList<>();
  private final Map<String, Map<String, IntList>> postings = new HashMap<>();
  private final Map<String, Integer> perMetric = new HashMap<>();
  private final ReadWriteLock lock = new ReentrantReadWriteLock();
  private final int maxSeriesPerMetric;

  private final HeadChunks chunks;
  private final Map<String, String> strings = new HashMap<>();

  Head(int maxSeriesPerMetric, HeadChunks chunks) {
    this.maxSeriesPerMetric = maxSeriesPerMetric;
    this.chunks = chunks;
  }

  HeadChunks chunks() {
    return chunks;
  }

  MemSeries get(Labels l) {
    return byLabels.get(l);
  }

  MemSeries byId(int id) {
    lock.readLock().lock();
    try {
      return id < byId.size() ? byId.get(id) : null;
    } finally {
      lock.readLock().unlock();
    }
  }

  /** The series with these labels, created (with id, or the next id when id < 0) if new. */
  MemSeries getOrCreate(
      Labels l, int id, boolean enforceLimit, java.util.function.Consumer<MemSeries> onCreate) {
    MemSeries s = byLabels.get(l);
    if (s != null) {
      return s;
    }
    lock.writeLock().lock();
    try {
      s = byLabels.get(l);
      if (s != null) {
        return s;
      }
      String metric = l.metricName();
      int n = perMetric.getOrDefault(metric, 0);
      if (enforceLimit && n >= maxSeriesPerMetric) {
        throw new TsdbException(
            "metric '"
                + metric
                + "' already has "
                + n
                + " series, the limit; "
                + l
                + " was dropped. Reduce its label values (a label holding ids or timestamps?) or"
                + " raise the per-metric series limit");
      }
      l = l.interned(strings); // under the write lock: the pool needs no lock of its own
      int newId = id >= 0 ? id : byId.size();
      while (byId.size() <= newId) {
        byId.add(null);
      }
      s = new MemSeries(newId, l, chunks);
      byId.set(newId, s);
      perMetric.put(metric, n + 1);
      for (int i = 0; i < l.size(); i++) {
        postings
            .computeIfAbsent(l.name(i), k -> new HashMap<>())
            .computeIfAbsent(l.value(i), k -> new IntList())
            .add(newId);
      }
      onCreate.accept(s); // under the lock: logged before any sample of it
      byLabels.put(l, s);
      return s;
    } finally {
      lock.writeLock().unlock();
    }
  }

  /**
   * Drops the series that hold no samples any more — every chunk persisted in a block and nothing
   * appended since — so that series which stopped (restarted pods, old label values) do not stay in
   * memory forever. The caller keeps appends out meanwhile. Returns how many were dropped.
   */
  int dropEmpty() {
    lock.writeLock().lock();
    try {
      int dropped = 0;
      for (int id = 0; id < byId.size(); id++) {
        MemSeries s = byId.get(id);
        if (s == null || !s.retireIfEmpty()) {
          continue;
        }
        byId.set(id, null);
        byLabels.remove(s.labels);
        perMetric.computeIfPresent(s.labels.metricName(), (k, n) -> n <= 1 ? null : n - 1);
        for (int i = 0; i < s.labels.size(); i++) {
          Map<String, IntList> values = postings.get(s.labels.name(i));
          IntList ids = values == null ? null : values.get(s.labels.value(i));
          if (ids != null && ids.remove(id) && ids.isEmpty()) {
            values.remove(s.labels.value(i));
            if (values.isEmpty()) {
              postings.remove(s.labels.name(i));
            }
          }
        }
        dropped++;
      }
      return dropped;
    } finally {
      lock.writeLock().unlock();
    }
  }

  int seriesCount() {
    return byLabels.size();
  }

  /** Every series matching all matchers. */
  List<MemSeries> select(List<Matcher> matchers) {
    lock.readLock().lock();
    try {
      int[] ids = null;
      List<Matcher> emptyMatching = new ArrayList<>();
      for (Matcher m : matchers) {
        if (m.matchesEmpty()) {
          emptyMatching.add(m); // also series without the label: filter afterwards
          continue;
        }
        int[] these = idsMatching(m);
        ids = ids == null ? these : intersect(ids, these);
        if (ids.length == 0) {
          return List.of();
        }
      }
      List<MemSeries> out = new ArrayList<>();
      if (ids == null) {
        for (MemSeries s : byId) {
          if (s != null && matchesAll(s.labels, emptyMatching)) {
            out.add(s);
          }
        }
      } else {
        for (int id : ids) {
          MemSeries s = byId.get(id);
          if (matchesAll(s.labels, emptyMatching)) {
            out.add(s);
          }
        }
      }
      return out;
    } finally {
      lock.readLock().unlock();
    }
  }

  static boolean matchesAll(Labels l, List<Matcher> ms) {
    for (Matcher m : ms) {
      if (!m.matches(l.get(m.name()))) {
        return false;
      }
    }
    return true;
  }

  private int[] idsMatching(Matcher m) {
    Map<String, IntList> values = postings.get(m.name());
    if (values == null) {
      return new int[0];
    }
    if (m.type() == Matcher.Type.EQ) {
      IntList l = values.get(m.value());
      return l == null ? new int[0] : l.toArray();
    }
    List<int[]> parts = new ArrayList<>();
    for (Map.Entry<String, IntList> e : values.entrySet()) {
      if (m.matches(e.getKey())) {
        parts.add(e.getValue().toArray());
      }
    }
    if (parts.size() == 1) {
      return parts.get(0);
    }
    int total = 0;
    for (int[] p : parts) {
      total += p.length;
    }
    int[] merged = new int[total];
    int k = 0;
    for (int[] p : parts) {
      System.arraycopy(p, 0, merged, k, p.length);
      k += p.length;
    }
    Arrays.sort(merged);
    return merged;
  }

  static int[] intersect(int[] a, int[] b) {
    int[] out = new int[Math.min(a.length, b.length)];
    int i = 0;
    int j = 0;
    int k = 0;
    while (i < a.length && j < b.length) {
      if (a[i] == b[j]) {
        out[k++] = a[i];
        i++;
        j++;
      } else if (a[i] < b[j]) {
        i++;
      } else {
        j++;
      }
    }
    return Arrays.copyOf(out, k);
  }

  /** Label names in use, sorted. */
  List<String> labelNames() {
    lock.readLock().lock();
    try {
      return new ArrayList<>(new TreeSet<>(postings.keySet()));
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Values of a label in use, sorted. */
  List<String> labelValues(String name) {
    lock.readLock().lock();
    try {
      Map<String, IntList> v = postings.get(name);
      return v == null ? List.of() : new ArrayList<>(new TreeMap<>(v).keySet());
    } finally {
      lock.readLock().unlock();
    }
  }

  List<MemSeries> all() {
    lock.readLock().lock();
    try {
      return byId.stream().filter(java.util.Objects::nonNull).toList();
    } finally {
      lock.readLock().unlock();
    }
  }

  /** A growable int array. */
  static final class IntList {
    private int[] a = new int[4];
    private int n;

    void add(int v) {
      if (n == a.length) {
        a = Arrays.copyOf(a, n * 2);
      }
      a[n++] = v;
    }

    int[] toArray() {
      return Arrays.copyOf(a, n);
    }

    /** Removes v (the list is sorted: ids are added in increasing order); true if it was there. */
    boolean remove(int v) {
      int i = Arrays.binarySearch(a, 0, n, v);
      if (i < 0) {
        return false;
      }
      System.arraycopy(a, i + 1, a, i, n - i - 1);
      n--;
      return true;
    }

    boolean isEmpty() {
      return n == 0;
    }
  }
}
