package dev.pilothouse.tsdb.remote;

import dev.pilothouse.tsdb.Labels;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Prometheus remote write 1.0's WriteRequest in protobuf wire format (without snappy, which the
 * transport adds): {@code timeseries = 1} of {@code labels = 1 {name = 1, value = 2}} and {@code
 * samples = 2 {value = 1 (double), timestamp = 2 (int64 ms)}}. Other fields are skipped.
 */
public final class WriteRequest {
  private WriteRequest() {}

  /** One series and its samples. */
  public record TimeSeries(Labels labels, long[] t, double[] v) {}

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

  public static List<TimeSeries> decode(byte[] data) {
    List<TimeSeries> out = new ArrayList<>();
    Reader r = new Reader(data, 0, data.length);
    while (r.more()) {
      int tag = (int) r.varint();
      if (tag >>> 3 == 1 && (tag & 7) == 2) {
        out.add(series(r.sub()));
      } else {
        r.skip(tag & 7);
      }
    }
    return out;
  }

  private static TimeSeries series(Reader r) {
    Map<String, String> labels = new LinkedHashMap<>();
    List<long[]> samples = new ArrayList<>();
    while (r.more()) {
      int tag = (int) r.varint();
      int field = tag >>> 3;
      if (field == 1 && (tag & 7) == 2) {
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
        labels.put(name, value);
      } else if (field == 2 && (tag & 7) == 2) {
        Reader p = r.sub();
        long bits = 0;
        long ts = 0;
        while (p.more()) {
          int pt = (int) p.varint();
          if (pt == 0x09) {
            bits = p.fixed64();
          } else if (pt == 0x10) {
            ts = p.varint();
          } else {
            p.skip(pt & 7);
          }
        }
        samples.add(new long[] {ts, bits});
      } else {
        r.skip(tag & 7);
      }
    }
    long[] t = new long[samples.size()];
    double[] v = new double[samples.size()];
    for (int i = 0; i < t.length; i++) {
      t[i] = samples.get(i)[0];
      v[i] = Double.longBitsToDouble(samples.get(i)[1]);
    }
    return new TimeSeries(Labels.of(labels), t, v);
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
      long v = 0;
      for (int k = 0; k < 8; k++) {
        v |= (long) (b[pos++] & 0xff) << (8 * k);
      }
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
      return new String(b, s.pos, s.end - s.pos, StandardCharsets.UTF_8);
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
