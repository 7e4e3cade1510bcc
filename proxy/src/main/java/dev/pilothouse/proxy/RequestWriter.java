package dev.pilothouse.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundInvoker;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.concurrent.FastThreadLocal;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;

/**
 * Writes a request to an instance's connection as bytes: the head in one buffer, the body as it
 * came (Content-Length) or re-chunked (chunked, with its trailers). What Netty's request encoder
 * did, without its message-to-message machinery on every request. Characters are written as
 * ISO-8859-1, the way the decoder read them, so the instance gets the bytes the client sent.
 */
final class RequestWriter {
  private RequestWriter() {}

  /** Writes the request line (always HTTP/1.1) and the headers, and flushes nothing. */
  static void head(Channel upstream, HttpRequest request) {
    Head h = HEAD.get();
    h.length = 0;
    h.append(request.method().asciiName());
    h.append(' ');
    h.append(target(request.uri()));
    h.append(HTTP_11_CRLF);
    h.headers(request.headers());
    h.append(CRLF_BYTES);
    h.writeTo(upstream);
  }

  /**
   * A head put together in an array of the event loop's before it is copied into a buffer in one
   * go: a String's characters are copied by {@code String.getBytes} (an array copy for Latin-1
   * strings) instead of one checked write per character into the buffer.
   */
  private static final class Head {
    byte[] bytes = new byte[2048];
    int length;

    private void room(int n) {
      if (length + n > bytes.length) {
        bytes = java.util.Arrays.copyOf(bytes, Math.max(length + n, bytes.length * 2));
      }
    }

    void append(char c) {
      room(1);
      bytes[length++] = (byte) c;
    }

    void append(byte[] b) {
      room(b.length);
      System.arraycopy(b, 0, bytes, length, b.length);
      length += b.length;
    }

    @SuppressWarnings(
        "deprecation") // the low byte of each char: ISO-8859-1, as the decoder read it
    void append(CharSequence cs) {
      int n = cs.length();
      room(n);
      if (cs instanceof AsciiString a) {
        System.arraycopy(a.array(), a.arrayOffset(), bytes, length, n);
      } else if (cs instanceof String str) {
        str.getBytes(0, n, bytes, length);
      } else {
        for (int i = 0; i < n; i++) {
          bytes[length + i] = (byte) cs.charAt(i);
        }
      }
      length += n;
    }

    void writeTo(Channel upstream) {
      ByteBuf out = upstream.alloc().buffer(length);
      out.writeBytes(bytes, 0, length);
      upstream.write(out, upstream.voidPromise());
    }

    void headers(HttpHeaders h) {
      Iterator<Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence();
      while (it.hasNext()) {
        Map.Entry<CharSequence, CharSequence> e = it.next();
        append(e.getKey());
        append(COLON_SPACE);
        append(e.getValue());
        append(CRLF_BYTES);
      }
    }
  }

  private static final FastThreadLocal<Head> HEAD =
      new FastThreadLocal<>() {
        @Override
        protected Head initialValue() {
          return new Head();
        }
      };

  /** The request target as the next hop needs it: never empty, an absolute URI with a path. */
  static String target(String uri) {
    if (uri.isEmpty()) {
      return "/";
    }
    int scheme = uri.indexOf("://");
    if (scheme > 0 && uri.charAt(0) != '/' && uri.indexOf('/', scheme + 3) < 0) {
      int q = uri.indexOf('?', scheme + 3);
      return q < 0 ? uri + "/" : uri.substring(0, q) + "/" + uri.substring(q);
    }
    return uri;
  }

  /** Writes a part of the body; chunked when the request's body is. Takes ownership of c. */
  static void content(Channel upstream, HttpContent c, boolean chunked) {
    ByteBuf data = c.content();
    boolean last = c instanceof LastHttpContent;
    if (!chunked) {
      if (data.isReadable()) {
        upstream.write(data, upstream.voidPromise()); // the content is the message's whole
      } else {
        c.release();
      }
      return;
    }
    if (data.isReadable()) {
      chunk(upstream, upstream.alloc(), data.retain());
    }
    if (last) {
      HttpHeaders trailers = ((LastHttpContent) c).trailingHeaders();
      if (trailers.isEmpty()) {
        lastChunk(upstream);
      } else {
        Head h = HEAD.get();
        h.length = 0;
        h.append('0');
        h.append(CRLF_BYTES);
        h.headers(trailers);
        h.append(CRLF_BYTES);
        h.writeTo(upstream);
      }
    }
    c.release();
  }

  /** Writes data (owned by the callee) as one chunk of a chunked body. */
  static void chunk(ChannelOutboundInvoker to, ByteBufAllocator alloc, ByteBuf data) {
    ByteBuf size = alloc.buffer(12);
    size.writeCharSequence(Integer.toHexString(data.readableBytes()), StandardCharsets.US_ASCII);
    size.writeShort(CRLF);
    to.write(size, to.voidPromise());
    to.write(data, to.voidPromise());
    to.write(CRLF_BUF.duplicate(), to.voidPromise());
  }

  /** Writes the last chunk of a chunked body, without trailers. */
  static void lastChunk(ChannelOutboundInvoker to) {
    to.write(LAST_CHUNK.duplicate(), to.voidPromise());
  }

  private static final short CRLF = ('\r' << 8) | '\n';
  private static final byte[] CRLF_BYTES = {'\r', '\n'};
  private static final byte[] COLON_SPACE = {':', ' '};
  private static final byte[] HTTP_11_CRLF = " HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final ByteBuf CRLF_BUF =
      Unpooled.unreleasableBuffer(
          Unpooled.wrappedBuffer("\r\n".getBytes(StandardCharsets.US_ASCII)).asReadOnly());
  private static final ByteBuf LAST_CHUNK =
      Unpooled.unreleasableBuffer(
          Unpooled.wrappedBuffer("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII)).asReadOnly());
}
