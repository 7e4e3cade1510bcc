package dev.pilothouse.proxy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/** Header rewriting: hop-by-hop removal, X-Forwarded-*, W3C traceparent. */
final class Headers {
  static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
  static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
  static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
  static final AsciiString TRACEPARENT = AsciiString.cached("traceparent");

  private Headers() {}

  /**
   * Removes hop-by-hop headers (RFC 9110 §7.6.1) and those named by Connection. Transfer-Encoding
   * stays: the codec re-frames the body the same way on the next hop.
   */
  static void removeHopByHop(HttpHeaders h) {
    // One pass to find out whether any hop-by-hop header is there at all (usually only
    // Connection): far cheaper than a hash lookup per candidate name on every message.
    boolean any = false;
    var it = h.iteratorCharSequence();
    while (it.hasNext() && !any) {
      CharSequence n = it.next().getKey();
      any = hopByHop(n);
    }
    if (!any) {
      return;
    }
    String connection = h.get(HttpHeaderNames.CONNECTION);
    if (connection != null) {
      for (String name : connection.split(",")) {
        String n = name.trim();
        if (!n.isEmpty()
            && !n.equalsIgnoreCase("close")
            && !n.equalsIgnoreCase("keep-alive")
            && !framing(n)) {
          h.remove(n);
        }
      }
      h.remove(HttpHeaderNames.CONNECTION);
    }
    h.remove(HttpHeaderNames.KEEP_ALIVE);
    h.remove(HttpHeaderNames.PROXY_AUTHENTICATE);
    h.remove(HttpHeaderNames.PROXY_AUTHORIZATION);
    h.remove(HttpHeaderNames.TE);
    h.remove(HttpHeaderNames.TRAILER);
    h.remove(HttpHeaderNames.UPGRADE);
    h.remove("proxy-connection");
  }

  /**
   * Headers that frame or address the message: a Connection list naming them must not remove them
   * (a client could make the next hop read the body differently: request smuggling).
   */
  static boolean framing(String n) {
    return n.equalsIgnoreCase("content-length")
        || n.equalsIgnoreCase("transfer-encoding")
        || n.equalsIgnoreCase("host")
        || n.equalsIgnoreCase("x-forwarded-for")
        || n.equalsIgnoreCase("x-forwarded-proto")
        || n.equalsIgnoreCase("x-forwarded-host");
  }

  private static boolean hopByHop(CharSequence n) {
    if (n.length() < 2) {
      return false;
    }
    return switch (Character.toLowerCase(n.charAt(0))) {
      case 'c' -> AsciiString.contentEqualsIgnoreCase(n, HttpHeaderNames.CONNECTION);
      case 'k' -> AsciiString.contentEqualsIgnoreCase(n, HttpHeaderNames.KEEP_ALIVE);
      case 'p' ->
          AsciiString.contentEqualsIgnoreCase(n, HttpHeaderNames.PROXY_AUTHENTICATE)
              || AsciiString.contentEqualsIgnoreCase(n, HttpHeaderNames.PROXY_AUTHORIZATION)
              || AsciiString.contentEqualsIgnoreCase(n, "proxy-connection");
      case 't' ->
          AsciiString.contentEqualsIgnoreCase(n, HttpHeaderNames.TE)
              || AsciiString.contentEqualsIgnoreCase(n, HttpHeaderNames.TRAILER);
      case 'u' -> AsciiString.contentEqualsIgnoreCase(n, HttpHeaderNames.UPGRADE);
      default -> false;
    };
  }

  private static final AsciiString HTTP = AsciiString.cached("http");
  private static final AsciiString HTTPS = AsciiString.cached("https");

  /**
   * Sets X-Forwarded-For/-Proto/-Host and a traceparent for the next hop. A trusted peer (another
   * proxy in front) has its X-Forwarded-* kept and extended; from anyone else they are replaced, so
   * a client cannot claim another address, scheme or host. Returns the traceparent sent on.
   */
  static AsciiString forward(HttpHeaders h, AsciiString clientIp, boolean tls, boolean trusted) {
    String xff = trusted ? h.get(X_FORWARDED_FOR) : null;
    if (xff == null || xff.isEmpty()) {
      h.set(X_FORWARDED_FOR, clientIp);
    } else {
      h.set(X_FORWARDED_FOR, xff + ", " + clientIp);
    }
    if (!trusted || !h.contains(X_FORWARDED_PROTO)) {
      h.set(X_FORWARDED_PROTO, tls ? HTTPS : HTTP);
    }
    String host = h.get(HttpHeaderNames.HOST);
    if (!trusted || !h.contains(X_FORWARDED_HOST)) {
      if (host != null) {
        h.set(X_FORWARDED_HOST, host);
      } else {
        h.remove(X_FORWARDED_HOST);
      }
    }
    AsciiString traceparent = traceparentAscii(h.get(TRACEPARENT));
    h.set(TRACEPARENT, traceparent);
    return traceparent;
  }

  /** The header that sends a request to a new version under test; needs the daemon's secret. */
  static final AsciiString PREVIEW = AsciiString.cached("x-pilothouse-preview");

  /**
   * On the answer to a request that the preview header sent to the new version: the group that
   * served it (absent when the new version had no instance in the table and the stable one did).
   * The daemon's smoke tests read it (RolloutController.PREVIEW_SERVED_HEADER, the same name).
   */
  static final AsciiString SERVED_BY_PREVIEW = AsciiString.cached("x-pilothouse-preview-group");

  /**
   * What is wrong with a request's Transfer-Encoding, or null: only "chunked", once, is accepted
   * (RFC 9112 §6.1); anything else could be read differently by the next hop.
   */
  static String badTransferEncoding(HttpHeaders h, io.netty.handler.codec.http.HttpVersion v) {
    if (!h.contains(HttpHeaderNames.TRANSFER_ENCODING)) {
      return null; // the common case, without allocating
    }
    List<String> te = h.getAll(HttpHeaderNames.TRANSFER_ENCODING);
    if (v.minorVersion() == 0 && v.majorVersion() == 1) {
      return "Transfer-Encoding in an HTTP/1.0 request";
    }
    if (te.size() != 1 || !te.get(0).trim().equalsIgnoreCase("chunked")) {
      return "Transfer-Encoding other than a single 'chunked'";
    }
    return null;
  }

  private static final byte[] HEX_BYTES =
      "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  /**
   * The traceparent for the next hop: the incoming trace id and flags with a new parent id when the
   * incoming header is valid, otherwise a new sampled trace. Built as bytes, which the encoder
   * copies without per-character work.
   */
  static AsciiString traceparentAscii(String incoming) {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    byte[] b = new byte[55];
    if (valid(incoming)) {
      for (int i = 0; i < 36; i++) {
        b[i] = (byte) incoming.charAt(i);
      }
      hex(b, 36, r.nextLong());
      b[52] = '-';
      b[53] = (byte) incoming.charAt(53);
      b[54] = (byte) incoming.charAt(54);
      return new AsciiString(b, false);
    }
    long hi = r.nextLong();
    long lo = r.nextLong();
    if (hi == 0 && lo == 0) {
      lo = 1;
    }
    b[0] = '0';
    b[1] = '0';
    b[2] = '-';
    hex(b, 3, hi);
    hex(b, 19, lo);
    b[35] = '-';
    hex(b, 36, r.nextLong() | 1);
    b[52] = '-';
    b[53] = '0';
    b[54] = '1';
    return new AsciiString(b, false);
  }

  private static void hex(byte[] out, int at, long v) {
    for (int i = at + 15; i >= at; i--) {
      out[i] = HEX_BYTES[(int) (v & 0xf)];
      v >>>= 4;
    }
  }

  static boolean valid(String tp) {
    if (tp == null
        || tp.length() != 55
        || tp.charAt(2) != '-'
        || tp.charAt(35) != '-'
        || tp.charAt(52) != '-') {
      return false;
    }
    if (tp.startsWith("ff")) {
      return false;
    }
    for (int i = 0; i < 55; i++) {
      if (i == 2 || i == 35 || i == 52) {
        continue;
      }
      char c = tp.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return !tp.regionMatches(3, "00000000000000000000000000000000", 0, 32)
        && !tp.regionMatches(36, "0000000000000000", 0, 16);
  }

  private static final boolean[] TOKEN = new boolean[128];

  static {
    for (char c = '0'; c <= '9'; c++) {
      TOKEN[c] = true;
    }
    for (char c = 'a'; c <= 'z'; c++) {
      TOKEN[c] = true;
      TOKEN[c - 32] = true;
    }
    for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
      TOKEN[c] = true;
    }
  }

  /**
   * The first header of a client request whose name is not an RFC 9110 token or whose value holds a
   * control character (CR, LF, NUL …), or null when all are valid. Checked here once, so that the
   * headers the proxy adds itself are not validated again on every request.
   */
  static String invalid(HttpHeaders h) {
    var it = h.iteratorCharSequence();
    while (it.hasNext()) {
      var e = it.next();
      CharSequence name = e.getKey();
      if (name.length() == 0) {
        return "(empty name)";
      }
      for (int i = 0; i < name.length(); i++) {
        char c = name.charAt(i);
        if (c >= 128 || !TOKEN[c]) {
          return name.toString();
        }
      }
      CharSequence value = e.getValue();
      for (int i = 0; i < value.length(); i++) {
        char c = value.charAt(i);
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
          return name.toString();
        }
      }
    }
    return null;
  }

  /** Whether the request method is idempotent (RFC 9110 §9.2.2). */
  static boolean idempotent(String method) {
    return switch (method) {
      case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE" -> true;
      default -> false;
    };
  }

  /** Cookie value by name from a Cookie header, or null. */
  static String cookie(String header, String name) {
    if (header == null) {
      return null;
    }
    for (String part : header.split(";")) {
      int eq = part.indexOf('=');
      if (eq > 0 && part.substring(0, eq).trim().equals(name)) {
        return part.substring(eq + 1).trim();
      }
    }
    return null;
  }
}
