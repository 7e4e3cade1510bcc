package dev.pilothouse.proxy.control;

import dev.pilothouse.proxy.ProxyOptions;
import dev.pilothouse.proxy.Route;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.List;
import java.util.Map;

/**
 * The control channel between the daemon and the data-plane process: length-prefixed binary frames
 * ({@link Codec}) over a Unix socket in the daemon's private state directory, or over TCP for a
 * data plane in a cluster (its first frame the control token). The daemon sends a {@link Request},
 * the proxy answers with a {@link Reply}; one request at a time per connection.
 */
public final class Protocol {
  /** Bumped when a message changes incompatibly; a daemon replaces a proxy speaking another. */
  public static final int VERSION = 7;

  /** The largest frame either side accepts (a metrics page of many series fits). */
  static final int MAX_FRAME = 64 << 20;

  private Protocol() {}

  /** What the daemon asks. */
  public enum Op {
    /** Who are you: pid, protocol, snapshot version, port. */
    HELLO,
    /** Serve this snapshot (options and routes) from now on. */
    APPLY,
    /** Recent per-request samples of some instances, for canary analysis. */
    WINDOW,
    /** RED metrics in Prometheus text format. */
    METRICS,
    /** Requests in flight to some instances, for draining. */
    IN_FLIGHT,
    /** Stop listening and exit. */
    STOP,
    /** Serve the control channel on another socket from now on (a standby taking over). */
    MOVE,
    /**
     * Requests served so far and in flight now, per instance, for autoscaling; for a key
     * "route:NAME", the requests that found no ready instance on that route so far.
     */
    LOAD
  }

  /**
   * One request.
   *
   * @param version the snapshot version (APPLY)
   * @param options how to listen (APPLY)
   * @param routes the route table (APPLY)
   * @param instances backend ids (WINDOW, IN_FLIGHT)
   * @param agoNanos how far back samples reach (WINDOW)
   * @param path the new control socket (MOVE)
   */
  public record Request(
      Op op,
      long version,
      ProxyOptions options,
      List<Route> routes,
      List<String> instances,
      long agoNanos,
      String path) {
    public Request(
        Op op,
        long version,
        ProxyOptions options,
        List<Route> routes,
        List<String> instances,
        long agoNanos) {
      this(op, version, options, routes, instances, agoNanos, null);
    }

    static Request of(Op op) {
      return new Request(op, 0, null, null, null, 0);
    }
  }

  /**
   * One answer; fields not relevant to the request are left out.
   *
   * @param error why an APPLY could not be served (the listener could not start), else empty
   * @param version the snapshot version being served (0 before the first)
   * @param port the port listened on, 0 when not listening
   * @param options the listener settings served (HELLO)
   * @param requestTotals requests each instance has answered or failed so far (LOAD)
   */
  public record Reply(
      boolean ok,
      String error,
      long pid,
      int protocol,
      long version,
      int port,
      String transport,
      ProxyOptions options,
      Map<String, Integer> inFlight,
      String text,
      int requests,
      int failures,
      double[] latenciesMs,
      Map<String, Long> requestTotals) {}

  /** The proxy's state: what it serves and how. */
  static Reply state(
      long pid, long version, int port, String transport, ProxyOptions options, String error) {
    return new Reply(
        error.isEmpty(),
        error,
        pid,
        VERSION,
        version,
        port,
        transport,
        options,
        null,
        null,
        0,
        0,
        null,
        null);
  }

  /** An answer carrying in-flight counts. */
  static Reply inFlight(long pid, long version, Map<String, Integer> inFlight) {
    return new Reply(
        true, "", pid, VERSION, version, 0, "", null, inFlight, null, 0, 0, null, null);
  }

  /** An answer carrying the metrics page. */
  static Reply metrics(long pid, long version, String text) {
    return new Reply(true, "", pid, VERSION, version, 0, "", null, null, text, 0, 0, null, null);
  }

  /** An answer carrying recent request samples. */
  static Reply window(long pid, long version, int requests, int failures, double[] latenciesMs) {
    return new Reply(
        true,
        "",
        pid,
        VERSION,
        version,
        0,
        "",
        null,
        null,
        null,
        requests,
        failures,
        latenciesMs,
        null);
  }

  /** An answer carrying each instance's requests so far and in flight now. */
  static Reply load(
      long pid, long version, Map<String, Long> requestTotals, Map<String, Integer> inFlight) {
    return new Reply(
        true, "", pid, VERSION, version, 0, "", null, inFlight, null, 0, 0, null, requestTotals);
  }

  static void write(WritableByteChannel ch, Request message) throws IOException {
    frame(ch, Codec.encode(message));
  }

  static void write(WritableByteChannel ch, Reply message) throws IOException {
    frame(ch, Codec.encode(message));
  }

  private static void frame(WritableByteChannel ch, byte[] body) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(4 + body.length).putInt(body.length).put(body).flip();
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }

  /** The longest control token accepted: the first frame of a TCP control channel. */
  static final int MAX_TOKEN = 1024;

  /**
   * Opens a TCP control channel by sending its token as the first frame; a proxy that does not
   * accept the token closes the channel.
   */
  static void sendToken(WritableByteChannel ch, byte[] token) throws IOException {
    frame(ch, token);
  }

  /**
   * Reads a TCP control channel's first frame (at most {@link #MAX_TOKEN} bytes, so an unknown peer
   * cannot make the proxy allocate a large frame) and says whether it is the expected token
   * (compared in constant time).
   */
  static boolean checkToken(ReadableByteChannel ch, byte[] expected) throws IOException {
    ByteBuffer len = ByteBuffer.allocate(4);
    fill(ch, len);
    int n = len.flip().getInt();
    if (n < 1 || n > MAX_TOKEN) {
      return false;
    }
    ByteBuffer body = ByteBuffer.allocate(n);
    fill(ch, body);
    return java.security.MessageDigest.isEqual(body.array(), expected);
  }

  static Request readRequest(ReadableByteChannel ch) throws IOException {
    return Codec.request(frame(ch));
  }

  static Reply readReply(ReadableByteChannel ch) throws IOException {
    return Codec.reply(frame(ch));
  }

  /** Reads one frame from a blocking channel; EOFException when the peer has gone. */
  private static byte[] frame(ReadableByteChannel ch) throws IOException {
    ByteBuffer len = ByteBuffer.allocate(4);
    fill(ch, len);
    int n = len.flip().getInt();
    if (n < 0 || n > MAX_FRAME) {
      throw new IOException("control frame of " + n + " bytes (limit " + MAX_FRAME + ")");
    }
    ByteBuffer body = ByteBuffer.allocate(n);
    fill(ch, body);
    return body.array();
  }

  private static void fill(ReadableByteChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      if (ch.read(b) < 0) {
        throw new EOFException("control channel closed");
      }
    }
  }
}
