package dev.pilothouse.proxy.control;

import dev.pilothouse.proxy.Backend;
import dev.pilothouse.proxy.BackendGroup;
import dev.pilothouse.proxy.Match;
import dev.pilothouse.proxy.ProxyOptions;
import dev.pilothouse.proxy.Route;
import dev.pilothouse.proxy.RoutePolicy;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The control protocol's binary encoding: each message's fields in declaration order, strings as
 * length-prefixed UTF-8, lists and maps with a count, absent values behind a presence flag. Written
 * by hand rather than with a JSON mapper because a freshly started proxy must decode its first
 * snapshot fast: reflective mapping costs a cold JVM half a second, this a few milliseconds.
 */
final class Codec {
  /** The most entries a list or map in one message may hold. */
  private static final int MAX_COUNT = 1 << 20;

  private Codec() {}

  static byte[] encode(Protocol.Request r) {
    return write(
        out -> {
          out.writeByte(r.op().ordinal());
          out.writeLong(r.version());
          nullable(out, r.options(), Codec::options);
          nullable(out, r.routes(), (o, v) -> list(o, v, Codec::route));
          nullable(out, r.instances(), (o, v) -> list(o, v, Codec::string));
          out.writeLong(r.agoNanos());
          nullable(out, r.path(), Codec::string);
        });
  }

  static Protocol.Request request(byte[] b) throws IOException {
    DataInputStream in = in(b);
    return new Protocol.Request(
        enumOf(Protocol.Op.values(), in.readByte()),
        in.readLong(),
        nullable(in, Codec::options),
        nullable(in, i -> list(i, Codec::route)),
        nullable(in, i -> list(i, Codec::string)),
        in.readLong(),
        nullable(in, Codec::string));
  }

  static byte[] encode(Protocol.Reply r) {
    return write(
        out -> {
          out.writeBoolean(r.ok());
          string(out, r.error());
          out.writeLong(r.pid());
          out.writeInt(r.protocol());
          out.writeLong(r.version());
          out.writeInt(r.port());
          string(out, r.transport());
          nullable(out, r.options(), Codec::options);
          nullable(
              out,
              r.inFlight(),
              (o, m) -> {
                o.writeInt(m.size());
                for (Map.Entry<String, Integer> e : m.entrySet()) {
                  string(o, e.getKey());
                  o.writeInt(e.getValue());
                }
              });
          nullable(out, r.text(), Codec::string);
          out.writeInt(r.requests());
          out.writeInt(r.failures());
          nullable(
              out,
              r.latenciesMs(),
              (o, d) -> {
                o.writeInt(d.length);
                for (double v : d) {
                  o.writeDouble(v);
                }
              });
          nullable(
              out,
              r.requestTotals(),
              (o, m) -> {
                o.writeInt(m.size());
                for (Map.Entry<String, Long> e : m.entrySet()) {
                  string(o, e.getKey());
                  o.writeLong(e.getValue());
                }
              });
        });
  }

  static Protocol.Reply reply(byte[] b) throws IOException {
    DataInputStream in = in(b);
    return new Protocol.Reply(
        in.readBoolean(),
        string(in),
        in.readLong(),
        in.readInt(),
        in.readLong(),
        in.readInt(),
        string(in),
        nullable(in, Codec::options),
        nullable(
            in,
            i -> {
              int n = count(i);
              Map<String, Integer> m = new HashMap<>();
              for (int k = 0; k < n; k++) {
                m.put(string(i), i.readInt());
              }
              return m;
            }),
        nullable(in, Codec::string),
        in.readInt(),
        in.readInt(),
        nullable(
            in,
            i -> {
              double[] d = new double[count(i)];
              for (int k = 0; k < d.length; k++) {
                d[k] = i.readDouble();
              }
              return d;
            }),
        nullable(
            in,
            i -> {
              int n = count(i);
              Map<String, Long> m = new HashMap<>();
              for (int k = 0; k < n; k++) {
                m.put(string(i), i.readLong());
              }
              return m;
            }));
  }

  // ---- the snapshot's parts

  private static void options(DataOutputStream out, ProxyOptions o) throws IOException {
    string(out, o.host());
    out.writeInt(o.port());
    out.writeInt(o.ioThreads());
    nullable(out, o.tlsCert(), (x, p) -> string(x, p.toString()));
    nullable(out, o.tlsKey(), (x, p) -> string(x, p.toString()));
    duration(out, o.idleTimeout());
    nullable(out, o.accessLog(), (x, p) -> string(x, p.toString()));
    out.writeDouble(o.accessLogSample());
    out.writeLong(o.accessLogMaxBytes());
    out.writeInt(o.accessLogKeep());
    list(out, o.trustedProxies(), Codec::string);
    duration(out, o.bodyTimeout());
  }

  private static ProxyOptions options(DataInputStream in) throws IOException {
    return new ProxyOptions(
        string(in),
        in.readInt(),
        in.readInt(),
        nullable(in, i -> Path.of(string(i))),
        nullable(in, i -> Path.of(string(i))),
        duration(in),
        nullable(in, i -> Path.of(string(i))),
        in.readDouble(),
        in.readLong(),
        in.readInt(),
        list(in, Codec::string),
        duration(in));
  }

  private static void route(DataOutputStream out, Route r) throws IOException {
    string(out, r.name());
    string(out, r.host());
    string(out, r.pathPrefix());
    out.writeBoolean(r.stripPrefix());
    list(out, r.groups(), Codec::group);
    list(out, r.matches(), Codec::match);
    string(out, r.mirror());
    policy(out, r.policy());
    string(out, r.stickyCookie());
    out.writeByte(r.mirrorPercent());
    string(out, r.hashBy());
  }

  private static Route route(DataInputStream in) throws IOException {
    return new Route(
        string(in),
        string(in),
        string(in),
        in.readBoolean(),
        list(in, Codec::group),
        list(in, Codec::match),
        string(in),
        policy(in),
        string(in),
        in.readByte(),
        string(in));
  }

  private static void group(DataOutputStream out, BackendGroup g) throws IOException {
    string(out, g.name());
    out.writeInt(g.weight());
    list(out, g.backends(), Codec::backend);
  }

  private static BackendGroup group(DataInputStream in) throws IOException {
    return new BackendGroup(string(in), in.readInt(), list(in, Codec::backend));
  }

  private static void backend(DataOutputStream out, Backend b) throws IOException {
    string(out, b.id());
    string(out, b.service());
    string(out, b.version());
    string(out, b.host());
    out.writeInt(b.port());
    out.writeInt(b.weight());
  }

  private static Backend backend(DataInputStream in) throws IOException {
    return new Backend(string(in), string(in), string(in), string(in), in.readInt(), in.readInt());
  }

  private static void match(DataOutputStream out, Match m) throws IOException {
    out.writeByte(m.kind().ordinal());
    string(out, m.name());
    string(out, m.value());
    string(out, m.group());
    out.writeByte(m.op().ordinal());
  }

  private static Match match(DataInputStream in) throws IOException {
    return new Match(
        enumOf(Match.Kind.values(), in.readByte()),
        string(in),
        string(in),
        string(in),
        enumOf(Match.Op.values(), in.readByte()));
  }

  private static void policy(DataOutputStream out, RoutePolicy p) throws IOException {
    duration(out, p.connectTimeout());
    duration(out, p.requestTimeout());
    duration(out, p.idleTimeout());
    out.writeInt(p.retries());
    out.writeDouble(p.retryBudget());
    out.writeInt(p.minRetries());
    out.writeByte(p.balancing().ordinal());
    out.writeInt(p.maxConnections());
    out.writeInt(p.maxPending());
    out.writeInt(p.maxRequests());
    out.writeInt(p.outlier().consecutiveFailures());
    duration(out, p.outlier().baseEjection());
    out.writeInt(p.outlier().maxEjectedPercent());
    out.writeDouble(p.rateLimit().requestsPerSecond());
    out.writeLong(p.rateLimit().burst());
    duration(out, p.fault().delay());
    out.writeDouble(p.fault().delayPercent());
    out.writeInt(p.fault().abortStatus());
    out.writeDouble(p.fault().abortPercent());
    string(out, p.fault().header());
    list(out, p.fault().callers(), DataOutputStream::writeLong);
    out.writeBoolean(p.fault().silent());
    duration(out, p.hold().timeout());
    out.writeInt(p.hold().maxHeld());
  }

  private static RoutePolicy policy(DataInputStream in) throws IOException {
    return new RoutePolicy(
        duration(in),
        duration(in),
        duration(in),
        in.readInt(),
        in.readDouble(),
        in.readInt(),
        enumOf(RoutePolicy.Balancing.values(), in.readByte()),
        in.readInt(),
        in.readInt(),
        in.readInt(),
        new RoutePolicy.Outlier(in.readInt(), duration(in), in.readInt()),
        new RoutePolicy.RateLimit(in.readDouble(), in.readLong()),
        new RoutePolicy.Fault(
            duration(in),
            in.readDouble(),
            in.readInt(),
            in.readDouble(),
            string(in),
            list(in, DataInputStream::readLong),
            in.readBoolean()),
        new RoutePolicy.Hold(duration(in), in.readInt()));
  }

  // ---- primitives

  private interface Writer<T> {
    void write(DataOutputStream out, T value) throws IOException;
  }

  private interface Reader<T> {
    T read(DataInputStream in) throws IOException;
  }

  private static DataInputStream in(byte[] b) {
    return new DataInputStream(new ByteArrayInputStream(b));
  }

  private interface Body {
    void write(DataOutputStream out) throws IOException;
  }

  private static byte[] write(Body body) {
    ByteArrayOutputStream b = new ByteArrayOutputStream(512);
    try (DataOutputStream out = new DataOutputStream(b)) {
      body.write(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a byte array does not fail
    }
    return b.toByteArray();
  }

  private static void string(DataOutputStream out, String s) throws IOException {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.writeInt(b.length);
    out.write(b);
  }

  private static String string(DataInputStream in) throws IOException {
    byte[] b = new byte[count(in, Protocol.MAX_FRAME)];
    in.readFully(b);
    return new String(b, StandardCharsets.UTF_8);
  }

  private static void duration(DataOutputStream out, Duration d) throws IOException {
    out.writeLong(d.getSeconds());
    out.writeInt(d.getNano());
  }

  private static Duration duration(DataInputStream in) throws IOException {
    return Duration.ofSeconds(in.readLong(), in.readInt());
  }

  private static <T> void list(DataOutputStream out, List<T> list, Writer<T> w) throws IOException {
    out.writeInt(list.size());
    for (T t : list) {
      w.write(out, t);
    }
  }

  private static <T> List<T> list(DataInputStream in, Reader<T> r) throws IOException {
    int n = count(in);
    List<T> list = new ArrayList<>(Math.min(n, 1024));
    for (int i = 0; i < n; i++) {
      list.add(r.read(in));
    }
    return list;
  }

  private static <T> void nullable(DataOutputStream out, T value, Writer<T> w) throws IOException {
    out.writeBoolean(value != null);
    if (value != null) {
      w.write(out, value);
    }
  }

  private static <T> T nullable(DataInputStream in, Reader<T> r) throws IOException {
    return in.readBoolean() ? r.read(in) : null;
  }

  private static int count(DataInputStream in) throws IOException {
    return count(in, MAX_COUNT);
  }

  private static int count(DataInputStream in, int max) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > max) {
      throw new IOException("control message holds a count of " + n + " (limit " + max + ")");
    }
    return n;
  }

  private static <E extends Enum<E>> E enumOf(E[] values, byte ordinal) throws IOException {
    if (ordinal < 0 || ordinal >= values.length) {
      throw new IOException(
          "control message holds an unknown "
              + values[0].getClass().getSimpleName()
              + " "
              + ordinal);
    }
    return values[ordinal];
  }
}
