package dev.pilothouse.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Raw requests mutated from a corpus of valid and smuggling requests: the proxy never crashes, and
 * every request that reaches the instance is one the proxy routed and logged.
 */
class FuzzTest {
  static final List<String> CORPUS =
      List.of(
          "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
          "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
          "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
          "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG",
          "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n",
          "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
          "GET / HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\nConnection: close\r\n\r\n",
          "GET / HTTP/1.1\nHost: x\nConnection: close\n\n",
          "GET / HTTP/1.1\r\nHost: x\r\nConnection: Content-Length, close\r\nContent-Length: 0\r\n\r\n",
          "GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.2.3.4\r\nConnection: close\r\n\r\n"
              + "GET /second HTTP/1.1\r\nHost: x\r\n\r\n");

  static TestBackend backend;
  static DataPlane proxy;
  static Path log;

  @BeforeContainer
  static void start() throws Exception {
    backend = new TestBackend("fuzz");
    log = Files.createTempFile("fuzz-access", ".log");
    Files.delete(log);
    proxy =
        DataPlane.start(HardeningTest.options(log, 100L << 20, List.of(), Duration.ofSeconds(2)));
    proxy.update(
        RouteTable.of(
            List.of(
                Route.simple(
                    "r",
                    "/",
                    List.of(backend.backend("v1")),
                    RoutePolicy.defaults().withRetriesAndMaxRequests(0, 1000)))));
  }

  @AfterContainer
  static void stop() throws Exception {
    try {
      // Most mutations still get an answer (the fuzzing reached the proxy's parsing and routing).
      assertThat(answered.get()).isGreaterThan(150);
      // Still serving, and the instance saw only requests the proxy routed and logged.
      assertThat(send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes()))
          .startsWith("HTTP/1.1 200");
      // Every request the instance's handler saw has an access-log line naming the instance. (A
      // logged request may never reach the handler: the instance's own parser can refuse it, or a
      // pooled connection it closed fails the attempt.)
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> assertThat(routedLines()).isGreaterThanOrEqualTo(backend.requests.get()));
      assertThat(backend.requests.get()).isPositive();
    } finally {
      proxy.close();
      backend.close();
      Files.deleteIfExists(log);
    }
  }

  /** Access-log lines of requests the proxy sent to an instance. */
  static long routedLines() throws Exception {
    if (!Files.exists(log)) {
      return 0;
    }
    return Files.readAllLines(log).stream()
        .filter(l -> l.contains("\"instance\":\"fuzz\""))
        .count();
  }

  static String send(byte[] raw) throws Exception {
    return RawHttp.exchange(proxy.port(), raw, true);
  }

  @Provide
  Arbitrary<byte[]> requests() {
    Arbitrary<String> junk =
        Arbitraries.strings()
            .withChars("\r\n :;,\t\0\"=chunkedTransfer-EncodingContent-Length0123456789")
            .ofMaxLength(12);
    return Combinators.combine(
            Arbitraries.of(CORPUS),
            Arbitraries.integers().between(0, 300),
            Arbitraries.integers().between(0, 6),
            junk)
        .as(
            (req, at, cut, ins) -> {
              int p = Math.min(at, req.length());
              String m = req.substring(0, p) + ins + req.substring(Math.min(req.length(), p + cut));
              return m.getBytes(StandardCharsets.ISO_8859_1);
            });
  }

  @Property(tries = 300)
  void mutatedRequests_neverCrashTheProxy_norReachTheInstanceUnlogged(
      @ForAll("requests") byte[] raw) throws Exception {
    String answer = send(raw);
    // An answer, or a close without one (a request cut short by the mutation).
    if (!answer.isEmpty()) {
      assertThat(answer).startsWith("HTTP/1.1 ");
      answered.incrementAndGet();
    }
  }

  static final java.util.concurrent.atomic.AtomicInteger answered =
      new java.util.concurrent.atomic.AtomicInteger();
}
