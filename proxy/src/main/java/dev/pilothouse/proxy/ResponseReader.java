package dev.pilothouse.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.util.ByteProcessor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads an instance's responses from its connection's bytes without building HTTP message objects:
 * it finds the head, reads what the proxy needs from it (status, framing, keep-alive, the
 * hop-by-hop headers to leave out) and frames the body, whose bytes are then forwarded as they came
 * (a chunked body too: its framing is checked, not rebuilt). One reader per upstream connection,
 * used on its event loop only.
 *
 * <p>Limits: the head (status line and headers) at most {@link #MAX_HEAD} bytes, a chunk-size line
 * {@link #MAX_CHUNK_LINE}, trailers {@link #MAX_TRAILERS}; beyond them, or on anything that is not
 * HTTP/1.x, the response is invalid and the connection is closed (the client gets a 502).
 */
final class ResponseReader {
  /** Status line and headers together, at most (Netty's decoder allowed 4 KiB + 8 KiB). */
  static final int MAX_HEAD = 12 * 1024;

  /** A chunk-size line (with extensions), at most. */
  static final int MAX_CHUNK_LINE = 4096;

  /** The trailer section of a chunked body, at most. */
  static final int MAX_TRAILERS = 8192;

  /** How a response's body ends (RFC 9112 §6.3). */
  enum Framing {
    /** No body: HEAD, 1xx, 204, 304. */
    NONE,
    /** Content-Length bytes. */
    LENGTH,
    /** Transfer-Encoding ending in chunked: up to the last chunk and the trailers. */
    CHUNKED,
    /** Neither: the body ends when the instance closes the connection. */
    UNTIL_CLOSE
  }

  /** Where the reader's results go. */
  interface Sink {
    /** A whole head was read; its accessors are valid during this call only. */
    void head(ResponseReader head);

    /** A part of the body (the receiver owns it: writes or releases it); last ends the response. */
    void body(ByteBuf part, boolean last);

    /** The instance sent something that is not a valid response: the connection must close. */
    void invalid(String why);
  }

  private enum State {
    HEAD,
    BODY_LENGTH,
    CHUNK_SIZE,
    CHUNK_EXT,
    CHUNK_DATA,
    CHUNK_DATA_END,
    TRAILERS,
    BODY_UNTIL_CLOSE,
    /** A response ended that leaves the connection unusable: what follows is not read. */
    CLOSING,
    BROKEN
  }

  private final Sink sink;
  private final ByteBufAllocator alloc;
  private State state = State.HEAD;

  /** The request was HEAD: its answer has no body whatever its headers say. */
  boolean head;

  /** Head bytes that arrived without the end of the head yet. */
  private ByteBuf partial;

  // the head just read (valid during Sink.head), copied out of the connection's buffer
  private byte[] bytes = new byte[1024];
  private int headSize;
  private int reasonStart;
  private int reasonEnd;
  private int status;
  private boolean keepAlive;
  private Framing framing;
  private boolean transferEncoding;
  private int lines;
  private int[] lineStart = new int[16];
  private int[] lineEnd = new int[16];
  private boolean[] drop = new boolean[16];
  private int[] nameEnd = new int[16];
  private final List<String> connectionNames = new ArrayList<>(2);

  // the body in progress
  private long remaining;
  private boolean chunkDigits;
  private boolean chunkOverflow;
  private int lineLength;
  private int trailerBytes;
  private boolean reusable;

  ResponseReader(Sink sink, ByteBufAllocator alloc) {
    this.sink = sink;
    this.alloc = alloc;
  }

  int status() {
    return status;
  }

  /** Whether the instance keeps the connection open after this response. */
  boolean keepAlive() {
    return keepAlive;
  }

  Framing framing() {
    return framing;
  }

  /** Whether the head has a Transfer-Encoding header. */
  boolean hasTransferEncoding() {
    return transferEncoding;
  }

  /** Whether, after the response that just ended, the connection can serve another request. */
  boolean reusable() {
    return reusable;
  }

  /** Whether a response is being read whose body ends when the connection closes. */
  boolean endsAtClose() {
    return state == State.BODY_UNTIL_CLOSE;
  }

  /** The head's size in bytes as received, for sizing the buffer it is written to. */
  int headBytes() {
    return headSize;
  }

  /**
   * Writes the head for the client: an HTTP/1.1 status line with the instance's code and reason,
   * then every header except hop-by-hop ones (RFC 9110 §7.6.1, and those the Connection header
   * names) and, where a Transfer-Encoding frames the body, any Content-Length; each line ends in
   * CRLF, and the blank line that ends the head is left to the caller (which adds its own headers).
   */
  void writeHead(ByteBuf out) {
    out.writeBytes(HTTP_11);
    writeStatus(out, status);
    out.writeByte(' ');
    out.writeBytes(bytes, reasonStart, reasonEnd - reasonStart);
    out.writeShort(CRLF_SHORT);
    for (int i = 0; i < lines; i++) {
      if (!drop[i]) {
        out.writeBytes(bytes, lineStart[i], lineEnd[i] - lineStart[i]);
        out.writeShort(CRLF_SHORT);
      }
    }
  }

  /** Reads what arrived; the caller releases in afterwards. */
  void read(ByteBuf in) {
    while (in.isReadable() && state != State.BROKEN && state != State.CLOSING) {
      if (state == State.HEAD) {
        if (!readHead(in)) {
          return;
        }
      } else if (state == State.BODY_LENGTH) {
        int n = (int) Math.min(remaining, in.readableBytes());
        remaining -= n;
        boolean last = remaining == 0;
        ByteBuf part = in.readRetainedSlice(n);
        if (last) {
          end(in);
        }
        sink.body(part, last);
      } else if (state == State.BODY_UNTIL_CLOSE) {
        sink.body(in.readRetainedSlice(in.readableBytes()), false);
      } else {
        readChunked(in);
      }
    }
    if (state == State.BROKEN || state == State.CLOSING) {
      in.skipBytes(in.readableBytes());
    }
  }

  /**
   * The connection closed. Ends a body that ends so (and says true); false when a response was cut
   * short or none was under way.
   */
  boolean closed() {
    release();
    if (state == State.BODY_UNTIL_CLOSE) {
      state = State.CLOSING;
      reusable = false;
      sink.body(Unpooled.EMPTY_BUFFER, true);
      return true;
    }
    return false;
  }

  /** Frees what the reader holds. */
  void release() {
    if (partial != null) {
      partial.release();
      partial = null;
    }
  }

  // ---- head

  /** Reads a head if all of it is there; false when more bytes are needed. */
  private boolean readHead(ByteBuf in) {
    ByteBuf from = in;
    if (partial != null) {
      partial.writeBytes(in);
      from = partial;
    }
    // blank lines before the status line (a stray CRLF after an earlier body) belong to nothing
    while (from.isReadable() && isLineEnd(from.getByte(from.readerIndex()))) {
      from.skipBytes(1);
    }
    int end = headEnd(from);
    if ((end < 0 ? from.readableBytes() : end - from.readerIndex()) > MAX_HEAD) {
      fail("its response head is larger than " + MAX_HEAD / 1024 + " KiB");
      return false;
    }
    if (end < 0) {
      if (partial == null) {
        partial = alloc.heapBuffer(Math.max(256, in.readableBytes() * 2));
        partial.writeBytes(in);
      }
      return false;
    }
    headSize = end - from.readerIndex();
    if (bytes.length < headSize) {
      bytes = new byte[Math.max(headSize, bytes.length * 2)];
    }
    // One copy, then plain array reads: a ByteBuf checks bounds and liveness on every getByte.
    from.getBytes(from.readerIndex(), bytes, 0, headSize);
    String bad = parseHead(bytes, 0, headSize);
    if (bad != null) {
      fail(bad);
      return false;
    }
    from.readerIndex(end);
    if (status >= 100 && status < 200) {
      if (status == 101) {
        fail("it switched protocols (101), which the proxy does not pass on");
        return false;
      }
      // An interim answer (100 Continue, 103 Early Hints): the final one follows.
      return continueAfterHead(in, from);
    }
    startBody();
    sink.head(this);
    if (state == State.HEAD || (state == State.BODY_LENGTH && remaining == 0)) {
      // no body, or an empty one: the response has ended
      end(from);
      sink.body(Unpooled.EMPTY_BUFFER, true);
    }
    return continueAfterHead(in, from);
  }

  /**
   * Reads on after a head: true when the head came from in (whose loop goes on), false when it came
   * from the partial buffer, whose rest (this response's body, or what follows) is read here.
   */
  private boolean continueAfterHead(ByteBuf in, ByteBuf from) {
    if (from == partial) {
      // The rest of the partial buffer is this response's body (or what follows): read it on.
      ByteBuf rest = partial;
      partial = null;
      try {
        if (state != State.BROKEN) {
          read(rest);
        }
      } finally {
        rest.release();
      }
      return false; // in was copied into partial whole
    }
    return true;
  }

  /** The index just after the blank line that ends the head, or -1. */
  private static int headEnd(ByteBuf b) {
    int i = b.readerIndex(); // at the status line: leading blank lines were skipped
    int limit = b.writerIndex();
    while (i < limit) {
      int lf = b.forEachByte(i, limit - i, ByteProcessor.FIND_LF);
      if (lf < 0) {
        return -1;
      }
      int len = lf - i;
      if (len == 0 || (len == 1 && b.getByte(i) == '\r')) {
        return lf + 1;
      }
      i = lf + 1;
    }
    return -1;
  }

  /** Parses the head in [start, end); returns what is wrong, or null. */
  private String parseHead(byte[] b, int start, int end) {
    int i = start;
    int lf = indexOf(b, i, end, (byte) '\n');
    int lineEndAt = lf > i && b[lf - 1] == '\r' ? lf - 1 : lf;
    // "HTTP/1.x SSS reason"
    if (lineEndAt - i < 12
        || !matches(b, i, HTTP_1_PREFIX)
        || (b[i + 7] != '0' && b[i + 7] != '1')
        || b[i + 8] != ' '
        || !digit(b[i + 9])
        || !digit(b[i + 10])
        || !digit(b[i + 11])
        || (lineEndAt - i > 12 && b[i + 12] != ' ')) {
      return "its status line is not HTTP/1.0 or HTTP/1.1: "
          + printable(b, i, Math.min(lineEndAt, i + 40));
    }
    boolean http11 = b[i + 7] == '1';
    status = (b[i + 9] - '0') * 100 + (b[i + 10] - '0') * 10 + b[i + 11] - '0';
    reasonStart = Math.min(i + 13, lineEndAt);
    reasonEnd = lineEndAt;
    lines = 0;
    connectionNames.clear();
    boolean close = false;
    boolean keepAliveToken = false;
    transferEncoding = false;
    boolean chunked = false;
    long length = -1;
    i = lf + 1;
    while (i < end) {
      lf = indexOf(b, i, end, (byte) '\n');
      int e = lf > i && b[lf - 1] == '\r' ? lf - 1 : lf;
      if (e == i) {
        break; // the blank line
      }
      byte first = b[i];
      if (first == ' ' || first == '\t') {
        return "it folds a header over lines (obsolete, RFC 9112 §5.2)";
      }
      int colon = indexOf(b, i, e, (byte) ':');
      if (colon <= i) {
        return "a header line has no name or no colon: " + printable(b, i, Math.min(e, i + 40));
      }
      byte beforeColon = b[colon - 1];
      if (beforeColon == ' ' || beforeColon == '\t') {
        return "a header name ends in whitespace (RFC 9112 §5.1)";
      }
      if (lines == lineStart.length) {
        grow();
      }
      lineStart[lines] = i;
      lineEnd[lines] = e;
      nameEnd[lines] = colon;
      drop[lines] = false;
      int vs = colon + 1;
      int ve = e;
      while (vs < ve && (b[vs] == ' ' || b[vs] == '\t')) {
        vs++;
      }
      while (ve > vs && (b[ve - 1] == ' ' || b[ve - 1] == '\t')) {
        ve--;
      }
      int nameLength = colon - i;
      switch (nameLength) {
        case 14 -> {
          if (nameIs(b, i, CONTENT_LENGTH)) {
            long v = parseLength(b, vs, ve);
            if (v < 0 || (length >= 0 && v != length)) {
              return "its Content-Length is not one non-negative number: "
                  + printable(b, vs, Math.min(ve, vs + 40));
            }
            length = v;
          }
        }
        case 17 -> {
          if (nameIs(b, i, TRANSFER_ENCODING)) {
            transferEncoding = true;
            chunked = lastTokenIsChunked(b, vs, ve);
          }
        }
        case 10 -> {
          drop[lines] = nameIs(b, i, KEEP_ALIVE);
          if (nameIs(b, i, CONNECTION)) {
            drop[lines] = true;
            for (String token :
                new String(b, vs, ve - vs, StandardCharsets.ISO_8859_1).split(",")) {
              String t = token.trim();
              if (t.equalsIgnoreCase("close")) {
                close = true;
              } else if (t.equalsIgnoreCase("keep-alive")) {
                keepAliveToken = true;
              } else if (!t.isEmpty() && !Headers.framing(t)) {
                connectionNames.add(t);
              }
            }
          }
        }
        case 2 -> drop[lines] = nameIs(b, i, TE);
        case 7 -> drop[lines] = nameIs(b, i, TRAILER) || nameIs(b, i, UPGRADE);
        case 16 -> drop[lines] = nameIs(b, i, PROXY_CONNECTION);
        case 18 -> drop[lines] = nameIs(b, i, PROXY_AUTHENTICATE);
        case 19 -> drop[lines] = nameIs(b, i, PROXY_AUTHORIZATION);
        default -> {}
      }
      lines++;
      i = lf + 1;
    }
    for (int k = 0; k < lines; k++) {
      int n = nameEnd[k] - lineStart[k];
      if (transferEncoding && n == 14 && nameIs(b, lineStart[k], CONTENT_LENGTH)) {
        drop[k] = true; // Transfer-Encoding frames the body: a length beside it is not passed on
      }
      for (String name : connectionNames) {
        if (name.length() == n
            && new String(b, lineStart[k], n, StandardCharsets.ISO_8859_1).equalsIgnoreCase(name)) {
          drop[k] = true;
        }
      }
    }
    keepAlive = http11 ? !close : keepAliveToken && !close;
    if (head || status < 200 || status == 204 || status == 304) {
      framing = Framing.NONE;
    } else if (transferEncoding) {
      framing = chunked ? Framing.CHUNKED : Framing.UNTIL_CLOSE;
    } else if (length >= 0) {
      framing = Framing.LENGTH;
      remaining = length;
    } else {
      framing = Framing.UNTIL_CLOSE;
    }
    if (framing == Framing.UNTIL_CLOSE) {
      keepAlive = false;
    }
    return null;
  }

  private void startBody() {
    switch (framing) {
      case NONE -> state = State.HEAD;
      case LENGTH -> state = State.BODY_LENGTH;
      case CHUNKED -> {
        state = State.CHUNK_SIZE;
        remaining = 0;
        chunkDigits = false;
        chunkOverflow = false;
        lineLength = 0;
        trailerBytes = 0;
      }
      case UNTIL_CLOSE -> state = State.BODY_UNTIL_CLOSE;
    }
  }

  /** The response ended at in's reader index: the connection is reusable if nothing follows. */
  private void end(ByteBuf in) {
    reusable = keepAlive && !in.isReadable();
    state = reusable ? State.HEAD : State.CLOSING;
  }

  // ---- chunked body

  /** Reads chunked framing as far as in goes, passing the bytes read on as they are. */
  private void readChunked(ByteBuf in) {
    int start = in.readerIndex();
    int i = start;
    int limit = in.writerIndex();
    boolean done = false;
    while (i < limit && !done) {
      switch (state) {
        case CHUNK_DATA -> {
          int n = (int) Math.min(remaining, limit - i);
          i += n;
          remaining -= n;
          if (remaining == 0) {
            state = State.CHUNK_DATA_END;
          }
        }
        case CHUNK_DATA_END -> {
          byte c = in.getByte(i++);
          if (c == '\n') {
            state = State.CHUNK_SIZE;
            remaining = 0;
            chunkDigits = false;
            lineLength = 0;
          } else if (c != '\r') {
            failChunked(in, start, "a chunk's data is longer than its size says");
            return;
          }
        }
        case CHUNK_SIZE, CHUNK_EXT -> {
          byte c = in.getByte(i++);
          if (++lineLength > MAX_CHUNK_LINE) {
            failChunked(in, start, "a chunk-size line is longer than " + MAX_CHUNK_LINE + " bytes");
            return;
          }
          if (c == '\n') {
            if (!chunkDigits || chunkOverflow) {
              failChunked(in, start, "a chunk-size line holds no valid size");
              return;
            }
            lineLength = 0;
            state = remaining == 0 ? State.TRAILERS : State.CHUNK_DATA;
          } else if (state == State.CHUNK_SIZE) {
            int d = hex(c);
            if (d >= 0) {
              chunkOverflow |= remaining > (Long.MAX_VALUE >>> 4);
              remaining = (remaining << 4) | d;
              chunkDigits = true;
            } else if (c == ';' || c == ' ' || c == '\t') {
              state = State.CHUNK_EXT;
            } else if (c != '\r') {
              failChunked(in, start, "a chunk size is not hexadecimal");
              return;
            }
          }
        }
        case TRAILERS -> {
          byte c = in.getByte(i++);
          if (++trailerBytes > MAX_TRAILERS) {
            failChunked(in, start, "its trailers are larger than " + MAX_TRAILERS + " bytes");
            return;
          }
          if (c == '\n') {
            if (lineLength == 0) {
              done = true; // the blank line after the trailers: the body has ended
            }
            lineLength = 0;
          } else if (c != '\r') {
            lineLength++;
          }
        }
        default -> throw new IllegalStateException(state.name());
      }
    }
    ByteBuf part = in.retainedSlice(start, i - start);
    in.readerIndex(i);
    if (done) {
      end(in);
    }
    sink.body(part, done);
  }

  private void failChunked(ByteBuf in, int start, String why) {
    in.readerIndex(start);
    fail("its chunked body is malformed: " + why);
  }

  private void fail(String why) {
    state = State.BROKEN;
    release();
    sink.invalid("invalid response from instance: " + why);
  }

  // ---- helpers

  private void grow() {
    int n = lineStart.length * 2;
    lineStart = java.util.Arrays.copyOf(lineStart, n);
    lineEnd = java.util.Arrays.copyOf(lineEnd, n);
    nameEnd = java.util.Arrays.copyOf(nameEnd, n);
    drop = java.util.Arrays.copyOf(drop, n);
  }

  private static boolean isLineEnd(byte c) {
    return c == '\r' || c == '\n';
  }

  private static boolean digit(byte c) {
    return c >= '0' && c <= '9';
  }

  private static int hex(byte c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    int l = c | 0x20;
    return l >= 'a' && l <= 'f' ? l - 'a' + 10 : -1;
  }

  /** Digits only, at most 18 of them; -1 otherwise. */
  private static long parseLength(byte[] b, int from, int to) {
    if (from == to || to - from > 18) {
      return -1;
    }
    long v = 0;
    for (int i = from; i < to; i++) {
      byte c = b[i];
      if (!digit(c)) {
        return -1;
      }
      v = v * 10 + (c - '0');
    }
    return v;
  }

  /** Whether the comma-separated list's last element is "chunked" (any case). */
  private static boolean lastTokenIsChunked(byte[] b, int from, int to) {
    int comma = from - 1;
    for (int i = to - 1; i >= from; i--) {
      if (b[i] == ',') {
        comma = i;
        break;
      }
    }
    int s = comma + 1;
    while (s < to && (b[s] == ' ' || b[s] == '\t')) {
      s++;
    }
    return to - s == 7 && nameIs(b, s, CHUNKED);
  }

  private static boolean matches(byte[] b, int at, byte[] exact) {
    for (int k = 0; k < exact.length; k++) {
      if (b[at + k] != exact[k]) {
        return false;
      }
    }
    return true;
  }

  /** Whether the bytes at at equal lower (lower-case ASCII) ignoring case. */
  private static boolean nameIs(byte[] b, int at, byte[] lower) {
    for (int k = 0; k < lower.length; k++) {
      byte c = b[at + k];
      if (c != lower[k] && (c | 0x20) != lower[k]) {
        return false;
      }
    }
    return true;
  }

  private static String printable(byte[] b, int from, int to) {
    StringBuilder s = new StringBuilder();
    for (int i = from; i < to; i++) {
      int c = b[i] & 0xff;
      s.append(c >= 0x20 && c < 0x7f ? (char) c : '?');
    }
    return "'" + s + "'";
  }

  private static int indexOf(byte[] b, int from, int to, byte value) {
    for (int i = from; i < to; i++) {
      if (b[i] == value) {
        return i;
      }
    }
    return -1;
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  private static final byte[] HTTP_11 = ascii("HTTP/1.1 ");
  private static final byte[] HTTP_1_PREFIX = ascii("HTTP/1.");
  private static final short CRLF_SHORT = ('\r' << 8) | '\n';
  private static final byte[] CONTENT_LENGTH = ascii("content-length");
  private static final byte[] TRANSFER_ENCODING = ascii("transfer-encoding");
  private static final byte[] CONNECTION = ascii("connection");
  private static final byte[] KEEP_ALIVE = ascii("keep-alive");
  private static final byte[] TE = ascii("te");
  private static final byte[] TRAILER = ascii("trailer");
  private static final byte[] UPGRADE = ascii("upgrade");
  private static final byte[] PROXY_CONNECTION = ascii("proxy-connection");
  private static final byte[] PROXY_AUTHENTICATE = ascii("proxy-authenticate");
  private static final byte[] PROXY_AUTHORIZATION = ascii("proxy-authorization");
  private static final byte[] CHUNKED = ascii("chunked");

  private static void writeStatus(ByteBuf out, int code) {
    out.writeByte('0' + code / 100);
    out.writeByte('0' + code / 10 % 10);
    out.writeByte('0' + code % 10);
  }
}
