package dev.pilothouse.tsdb.remote;

import dev.pilothouse.tsdb.Labels;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Prometheus remote write 1.0's WriteRequest in protobuf wire format (without snappy, which the
 * transport adds): {@code timeseries = 1} of {@code labels = 1 {name = 1, value = 2}} and {@code
 * samples = 2 {value = 1 (double), timestamp = 2 (int64 ms)}}. Other fields are skipped.
 */
public final class WriteRequest {
  private WriteRequest() {}

  /** One series and its samples. */
  public record TimeSeries(Labels labels, long[] t, double[] v) {}

  /** Takes decoded series: their labels and samples [0, n) of t and v (reused afterwards). */
  @FunctionalInterface
  public interface Sink {
    /** Returns the labels to remember for the series (the given ones, or an equal copy). */
    Labels accept(Labels labels, long[] t, double[] v, int n);
  }

  /** A malformed request. */
  public static final class DecodeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    DecodeException(String message) {
      super(message);
    }
  }

  public static byte[] encode(List<TimeSeries> series) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (TimeSeries ts : series) {
      ByteArrayOutputStream s = new ByteArrayOutputStream();
      for (int i = 0; i < ts.labels().size(); i++) {
        ByteArrayOutputStream l = new ByteArrayOutputStream();
        bytes(l, 1, ts.labels().name(i).getBytes(StandardCharsets.UTF_8));
        bytes(l, 2, ts.labels().value(i).getBytes(StandardCharsets.UTF_8));
        bytes(s, 1, l.toByteArray());
      }
      for (int i = 0; i < ts.t().length; i++) {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(0x09);
        long bits = Double.doubleToRawLongBits(ts.v()[i]);
        for (int k = 0; k < 8; k++) {
          p.write((int) (bits >>> (8 * k)));
        }
        p.write(0x10);
        varint(p, ts.t()[i]);
        bytes(s, 2, p.toByteArray());
      }
      bytes(out, 1, s.toByteArray());
    }
    return out.toByteArray();
  }

  private static void bytes(ByteArrayOutputStream o, int field, byte[] b) {
    o.write((field << 3) | 2);
    varint(o, b.length);
    o.writeBytes(b);
  }

  private static void varint(ByteArrayOutputStream o, long v) {
    while ((v & ~0x7FL) != 0) {
      o.write((int) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    o.write((int) v);
  }

  /** Decodes a request without remembering any labels. */
  public static List<TimeSeries> decode(byte[] data) {
    return new Decoder(0).decode(data);
  }

  /**
   * Decodes requests, remembering the labels of the series it has seen by their encoded bytes: a
   * sender writes the same series again and again, so a series seen before costs a hash of its
   * label bytes instead of parsing, decoding and sorting its labels. Thread-safe; holds at most
   * {@code maxSeries} label sets (forgetting them all when full).
   */
  public static final class Decoder {
    private final int maxSeries;
    private final ConcurrentHashMap<Key, Labels> known = new ConcurrentHashMap<>();

    public Decoder(int maxSeries) {
      this.maxSeries = maxSeries;
    }

    public List<TimeSeries> decode(byte[] data) {
      List<TimeSeries> out = new ArrayList<>();
      decode(
          data,
          (labels, t, v, n) -> {
            out.add(new TimeSeries(labels, Arrays.copyOf(t, n), Arrays.copyOf(v, n)));
            return labels;
          });
      return out;
    }

    /**
     * Decodes a request, handing each series to the sink as it is read; the labels the sink returns
     * are remembered for the series from then on (a store's own copy compares fastest).
     */
    public void decode(byte[] data, Sink sink) {
      decode(data, sink, null, Integer.MAX_VALUE);
    }

    /** What a request held: its series, and those refused for their labels. */
    public record Result(int series, int invalid, String firstInvalid) {}

    /**
     * Decodes a request as {@link #decode(byte[], Sink)} does, refusing series whose labels break
     * limits (they are counted, not handed to the sink) and a request of more than maxSeries series
     * (a {@link DecodeException} as soon as it is seen).
     */
    public Result decode(
        byte[] data, Sink sink, dev.pilothouse.tsdb.LabelLimits limits, int maxSeries) {
      return decode(data, data.length, sink, limits, maxSeries);
    }

    /** Decodes the request in the first length bytes of data (a buffer used again). */
    public Result decode(
        byte[] data, int length, Sink sink, dev.pilothouse.tsdb.LabelLimits limits, int maxSeries) {
      Objects.checkFromIndexSize(0, length, data.length);
      int series = 0;
      int invalid = 0;
      String firstInvalid = null;
      Reader r = new Reader(data, 0, length);
      long[] t = new long[32];
      double[] vs = new double[32];
      while (r.more()) {
        int tag = (int) r.varint();
        if (tag >>> 3 == 1 && (tag & 7) == 2) {
          if (++series > maxSeries) {
            throw new DecodeException(
                "the request has more than "
                    + maxSeries
                    + " series; send smaller batches (max_samples_per_send) or raise"
                    + " metrics.seriesPerRequest");
          }
          Reader ts = r.sub();
          int n = 0;
          int labelsStart = ts.pos;
          int labelsEnd = -1; // where the label fields end, if they all come first
          boolean cacheable = true;
          while (ts.more()) {
            int at = ts.pos;
            int ft = (int) ts.varint();
            int field = ft >>> 3;
            if (field == 2 && (ft & 7) == 2) {
              if (labelsEnd < 0) {
                labelsEnd = at;
              }
              if (n == t.length) {
                t = Arrays.copyOf(t, n * 2);
                vs = Arrays.copyOf(vs, n * 2);
              }
              sample(ts.sub(), t, vs, n++);
            } else {
              ts.skip(ft & 7);
              // a label (or anything else) after a sample: the labels are not one slice
              cacheable &= labelsEnd < 0;
            }
          }
          if (labelsEnd < 0) {
            labelsEnd = ts.end;
          }
          boolean cache = this.maxSeries > 0 && cacheable;
          Key key = cache ? new Key(data, labelsStart, labelsEnd) : null;
          Labels remembered = cache ? known.get(key) : null;
          Labels labels = remembered;
          if (labels == null) {
            // Only labels not seen before are checked: remembered ones passed when first seen.
            String wrong;
            try {
              labels = labels(new Reader(data, labelsStart, cache ? labelsEnd : ts.end));
              wrong = limits == null ? null : limits.check(labels);
            } catch (DecodeException e) {
              if (limits == null) {
                throw e;
              }
              wrong = e.getMessage();
            }
            if (wrong != null) {
              invalid++;
              firstInvalid = firstInvalid == null ? wrong : firstInvalid;
              continue;
            }
          }
          Labels kept = sink.accept(labels, t, vs, n);
          if (cache && kept != remembered) {
            if (known.size() >= this.maxSeries) {
              known.clear();
            }
            known.put(key.copy(), kept);
          }
        } else {
          r.skip(tag & 7);
        }
      }
      return new Result(series, invalid, firstInvalid == null ? "" : firstInvalid);
    }

    /** Reads a Sample message {value = 1, timestamp = 2} into t[i] and v[i]. */
    private static void sample(Reader p, long[] t, double[] v, int i) {
      long bits = 0;
      long time = 0;
      while (p.more()) {
        int tag = (int) p.varint();
        if (tag == 0x09) {
          bits = p.fixed64();
        } else if (tag == 0x10) {
          time = p.varint();
        } else {
          p.skip(tag & 7);
        }
      }
      t[i] = time;
      v[i] = Double.longBitsToDouble(bits);
    }

    /** How many label sets are remembered. */
    public int size() {
      return known.size();
    }
  }

  /** The labels of a TimeSeries message (other fields are skipped). */
  private static Labels labels(Reader r) {
    Map<String, String> labels = new LinkedHashMap<>();
    while (r.more()) {
      int tag = (int) r.varint();
      if (tag >>> 3 == 1 && (tag & 7) == 2) {
        Reader l = r.sub();
        String name = "";
        String value = "";
        while (l.more()) {
          int lt = (int) l.varint();
          if ((lt & 7) == 2 && (lt >>> 3 == 1 || lt >>> 3 == 2)) {
            String s = l.string();
            if (lt >>> 3 == 1) {
              name = s;
            } else {
              value = s;
            }
          } else {
            l.skip(lt & 7);
          }
        }
        if (name.isEmpty()) {
          throw new DecodeException("a label without a name");
        }
        if (labels.put(name, value) != null) {
          throw new DecodeException("label '" + name + "' appears twice in one series");
        }
      } else {
        r.skip(tag & 7);
      }
    }
    return Labels.of(labels);
  }

  private static final java.lang.invoke.VarHandle WORD =
      java.lang.invoke.MethodHandles.byteArrayViewVarHandle(
          long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

  /** A slice of bytes as a map key (probes use the request's bytes; stored keys own a copy). */
  private static final class Key {
    private final byte[] b;
    private final int from;
    private final int to;
    private final int hash;

    Key(byte[] b, int from, int to) {
      this.b = b;
      this.from = from;
      this.to = to;
      // Eight bytes at a time: this runs for every series of every request.
      long h = to - from;
      int i = from;
      for (; i + 8 <= to; i += 8) {
        h = (h ^ (long) WORD.get(b, i)) * 0x9E3779B97F4A7C15L;
        h ^= h >>> 29;
      }
      for (; i < to; i++) {
        h = (h ^ b[i]) * 0x9E3779B97F4A7C15L;
      }
      this.hash = (int) (h ^ (h >>> 32));
    }

    Key copy() {
      return new Key(Arrays.copyOfRange(b, from, to), 0, to - from);
    }

    @Override
    public int hashCode() {
      return hash;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Key k && k.hash == hash && Arrays.equals(b, from, to, k.b, k.from, k.to);
    }
  }

  /** Reads protobuf wire format from a slice. */
  private static final class Reader {
    private final byte[] b;
    private int pos;
    private final int end;

    Reader(byte[] b, int pos, int end) {
      this.b = b;
      this.pos = pos;
      this.end = end;
    }

    boolean more() {
      return pos < end;
    }

    long varint() {
      long v = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        if (pos >= end) {
          throw new DecodeException("truncated varint");
        }
        byte x = b[pos++];
        v |= (long) (x & 0x7F) << shift;
        if ((x & 0x80) == 0) {
          return v;
        }
      }
      throw new DecodeException("varint too long");
    }

    long fixed64() {
      if (pos + 8 > end) {
        throw new DecodeException("truncated fixed64");
      }
      long v = (long) WORD.get(b, pos);
      pos += 8;
      return v;
    }

    Reader sub() {
      long len = varint();
      if (len < 0 || pos + len > end) {
        throw new DecodeException("truncated length-delimited field");
      }
      Reader r = new Reader(b, pos, (int) (pos + len));
      pos += (int) len;
      return r;
    }

    String string() {
      Reader s = sub();
      try {
        return StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
            .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
            .decode(java.nio.ByteBuffer.wrap(b, s.pos, s.end - s.pos))
            .toString();
      } catch (java.nio.charset.CharacterCodingException e) {
        throw new DecodeException("a label is not valid UTF-8");
      }
    }

    void skip(int wireType) {
      switch (wireType) {
        case 0 -> varint();
        case 1 -> pos += 8;
        case 2 -> sub();
        case 5 -> pos += 4;
        default -> throw new DecodeException("unsupported wire type " + wireType);
      }
      if (pos > end) {
        throw new DecodeException("truncated field");
      }
    }
  }
}
