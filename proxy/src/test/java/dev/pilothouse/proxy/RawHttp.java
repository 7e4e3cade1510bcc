package dev.pilothouse.proxy;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** Sends bytes as they are to a port and reads what comes back: for malformed requests. */
final class RawHttp {
  private RawHttp() {}

  /**
   * Writes raw (then half-closes when halfClose), and reads until the peer closes, an error, or 10
   * s; a connection still open then is marked "(STILL OPEN)" at the end of what was read.
   */
  static String exchange(int port, byte[] raw, boolean halfClose) throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(raw);
      s.getOutputStream().flush();
      if (halfClose) {
        s.shutdownOutput();
      }
      InputStream in = s.getInputStream();
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      byte[] buf = new byte[4096];
      int n;
      try {
        while ((n = in.read(buf)) > 0) {
          got.write(buf, 0, n);
        }
      } catch (java.net.SocketTimeoutException stillOpen) {
        got.writeBytes("\n(STILL OPEN)".getBytes(StandardCharsets.ISO_8859_1));
      } catch (java.net.SocketException reset) {
        // what arrived before the reset is the answer
      }
      return got.toString(StandardCharsets.ISO_8859_1);
    }
  }

  static String exchange(int port, String raw) throws Exception {
    return exchange(port, raw.getBytes(StandardCharsets.ISO_8859_1), false);
  }
}
