package dev.pilothouse.proxy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** A real HTTP server on a loopback port that answers with its id and echoes what it got. */
final class TestBackend implements AutoCloseable {
  final String id;
  final HttpServer server;
  final AtomicInteger requests = new AtomicInteger();
  final Map<String, String> lastHeaders = new ConcurrentHashMap<>();
  final AtomicLong bytesReceived = new AtomicLong();
  volatile String lastUri = "";
  volatile int status = 200;
  volatile long delayMs;
  volatile boolean hang;

  TestBackend(String id) throws IOException {
    this.id = id;
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 512);
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.createContext("/", this::handle);
    server.start();
  }

  int port() {
    return server.getAddress().getPort();
  }

  Backend backend(String version) {
    return Backend.of(id, "svc", version, port());
  }

  private void handle(HttpExchange ex) throws IOException {
    requests.incrementAndGet();
    lastUri = ex.getRequestURI().toString();
    ex.getRequestHeaders()
        .forEach(
            (k, v) -> lastHeaders.put(k.toLowerCase(java.util.Locale.ROOT), String.join(",", v)));
    try {
      while (hang) {
        Thread.sleep(50);
      }
      if (delayMs > 0) {
        Thread.sleep(delayMs);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try (InputStream in = ex.getRequestBody()) {
      byte[] buf = new byte[65536];
      int n;
      while ((n = in.read(buf)) > 0) {
        bytesReceived.addAndGet(n);
      }
    }
    String path = ex.getRequestURI().getPath();
    if (path.equals("/stall-body")) {
      // Headers and a part of the body, then silence (until the test's server stops).
      ex.sendResponseHeaders(200, 100);
      OutputStream out = ex.getResponseBody();
      out.write("0123456789".getBytes(StandardCharsets.UTF_8));
      out.flush();
      try {
        Thread.sleep(30_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      ex.close();
      return;
    }
    if (path.startsWith("/download/")) {
      long size = Long.parseLong(path.substring("/download/".length()));
      ex.sendResponseHeaders(200, size);
      byte[] chunk = new byte[65536];
      try (OutputStream out = ex.getResponseBody()) {
        for (long sent = 0; sent < size; sent += chunk.length) {
          out.write(chunk, 0, (int) Math.min(chunk.length, size - sent));
        }
      }
      return;
    }
    byte[] body = (id + "\n").getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("X-Backend", id);
    ex.sendResponseHeaders(status, body.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(body);
    }
  }

  @Override
  public void close() {
    hang = false;
    server.stop(0);
  }
}
