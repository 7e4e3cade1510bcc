package dev.pilothouse.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * How the proxy frames what instances answer, against an instance that writes its answers byte for
 * byte: bodies that end at close, chunked bodies with trailers, hop-by-hop headers, HEAD, invalid
 * answers, and when an instance's connection is used again.
 */
class UpstreamFramingTest {

  /** An instance on a loopback port that answers each request path with fixed bytes. */
  static final class RawInstance implements AutoCloseable {
    final ServerSocket server;
    final AtomicInteger connections = new AtomicInteger();
    final Map<String, String> answers;

    /** The chunked body of the last request to /chunked-in, as it arrived. */
    volatile String lastChunkedBody;

    RawInstance(Map<String, String> answers) throws IOException {
      this.answers = answers;
      server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      Thread.ofVirtual().start(this::accept);
    }

    private void accept() {
      while (!server.isClosed()) {
        try {
          Socket s = server.accept();
          connections.incrementAndGet();
          Thread.ofVirtual().start(() -> serve(s));
        } catch (IOException closed) {
          return;
        }
      }
    }

    private void serve(Socket s) {
      try (s) {
        InputStream in = s.getInputStream();
        OutputStream out = s.getOutputStream();
        while (true) {
          String head = readHead(in);
          if (head == null) {
            return;
          }
          String path = head.substring(head.indexOf(' ') + 1, head.indexOf(' ', 5));
          if (path.equals("/chunked-in")) {
            lastChunkedBody = readHead(in); // its trailers end in an empty line, as a head does
          }
          String answer =
              answers.getOrDefault(path, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
          out.write(answer.getBytes(StandardCharsets.ISO_8859_1));
          out.flush();
          if (path.startsWith("/close")) {
            return;
          }
        }
      } catch (IOException gone) {
        // the proxy closed the connection
      }
    }

    private static String readHead(InputStream in) throws IOException {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      int c;
      while ((c = in.read()) >= 0) {
        b.write(c);
        String s = b.toString(StandardCharsets.ISO_8859_1);
        if (s.endsWith("\r\n\r\n")) {
          return s;
        }
      }
      return null;
    }

    int port() {
      return server.getLocalPort();
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }

  private static final Map<String, String> ANSWERS =
      Map.of(
          "/close",
          "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello, until close",
          "/chunked",
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
              + "6\r\nhello,\r\n6;ext=1\r\n world\r\n0\r\nX-Sum: 42\r\n\r\n",
          "/hop",
          "HTTP/1.1 200 OK\r\nConnection: X-Secret\r\nX-Secret: 1\r\nKeep-Alive: timeout=9\r\n"
              + "X-Kept: yes\r\nContent-Length: 2\r\n\r\nok",
          "/head",
          "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",
          "/invalid",
          "HTTP/1.1 200 OK\r\nContent-Length: twelve\r\n\r\n",
          "/garbage",
          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA",
          "/chunked-in",
          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");

  RawInstance instance;
  DataPlane dp;
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeEach
  void start() throws IOException {
    instance = new RawInstance(ANSWERS);
    dp = DataPlane.start(ProxyOptions.plain("127.0.0.1", 0));
    dp.update(
        RouteTable.of(
            List.of(
                Route.simple(
                    "r",
                    "/",
                    List.of(Backend.of("raw-1", "svc", "v1", instance.port())),
                    RoutePolicy.defaults()))));
  }

  @AfterEach
  void stop() throws IOException {
    dp.close();
    instance.close();
  }

  private HttpResponse<String> send(String method, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + dp.port() + path))
            .method(method, HttpRequest.BodyPublishers.noBody())
            .timeout(Duration.ofSeconds(10))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aBodyThatEndsAtClose_reachesAKeepAliveClientChunked_andItsConnectionStaysOpen()
      throws Exception {
    String raw =
        RawHttp.exchange(
            dp.port(),
            "GET /close HTTP/1.1\r\nHost: x\r\n\r\nGET /close HTTP/1.1\r\nHost: x\r\n"
                + "Connection: close\r\n\r\n");
    // The first answer is chunked (the client keeps its connection); the second is not (that
    // request asked to close): its body ends when the connection does.
    assertThat(raw.split("HTTP/1.1 200 OK", -1)).hasSize(3);
    assertThat(raw)
        .contains(
            "transfer-encoding: chunked\r\n\r\n12\r\nhello, until close\r\n0\r\n\r\n"
                + "HTTP/1.1 200 OK");
    assertThat(raw).endsWith("connection: close\r\n\r\nhello, until close");
    assertThat(instance.connections).hasValue(2); // such a connection is never used again
  }

  @Test
  void aChunkedBody_withTrailers_passesThroughAsSent() throws Exception {
    String raw =
        RawHttp.exchange(
            dp.port(), "GET /chunked HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assertThat(raw)
        .contains("Transfer-Encoding: chunked\r\n")
        .doesNotContain("Trailer: X-Sum") // hop-by-hop
        .endsWith("\r\n\r\n6\r\nhello,\r\n6;ext=1\r\n world\r\n0\r\nX-Sum: 42\r\n\r\n");
    assertThat(send("GET", "/chunked").body()).isEqualTo("hello, world");
  }

  @Test
  void hopByHopHeaders_andThoseTheInstanceNamesInConnection_doNotReachTheClient() throws Exception {
    HttpResponse<String> r = send("GET", "/hop");
    assertThat(r.body()).isEqualTo("ok");
    assertThat(r.headers().firstValue("x-kept")).hasValue("yes");
    assertThat(r.headers().firstValue("x-secret")).isEmpty();
    assertThat(r.headers().firstValue("keep-alive")).isEmpty();
  }

  @Test
  void keepAliveAnswers_reuseTheInstancesConnection_andHeadAnswersHaveNoBody() throws Exception {
    for (int i = 0; i < 3; i++) {
      assertThat(send("GET", "/hop").body()).isEqualTo("ok");
      HttpResponse<String> head = send("HEAD", "/head");
      assertThat(head.statusCode()).isEqualTo(200);
      assertThat(head.headers().firstValueAsLong("content-length")).hasValue(1000);
    }
    assertThat(instance.connections).hasValue(1);
  }

  @Test
  void bytesAfterAnAnswer_closeTheInstancesConnection() throws Exception {
    for (int i = 0; i < 3; i++) {
      assertThat(send("GET", "/garbage").body()).isEqualTo("ok");
    }
    assertThat(instance.connections).hasValue(3);
  }

  @Test
  void anInvalidAnswer_givesTheClientA502_sayingWhy() throws Exception {
    HttpResponse<String> r = send("GET", "/invalid");
    assertThat(r.statusCode()).isEqualTo(502);
    assertThat(r.body()).contains("invalid response from instance: its Content-Length");
    assertThat(r.headers().firstValue("x-pilothouse-reason")).get().asString().contains("twelve");
  }

  @Test
  void aChunkedRequestBody_reachesARealServerWhole_andTheConnectionServesOn() throws Exception {
    try (TestBackend echo = new TestBackend("echo")) {
      dp.update(
          RouteTable.of(
              List.of(
                  Route.simple("r", "/", List.of(echo.backend("v1")), RoutePolicy.defaults()))));
      String raw =
          RawHttp.exchange(
              dp.port(),
              "POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  + "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n"
                  + "GET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      assertThat(raw.split("HTTP/1.1 200 OK", -1)).hasSize(3);
      assertThat(echo.bytesReceived).hasValue(11);
      assertThat(echo.lastUri).isEqualTo("/next");
      assertThat(echo.requests).hasValue(2);
    }
  }

  @Test
  void aChunkedRequestBody_isRechunkedForTheInstance_withItsTrailers() throws Exception {
    String raw =
        RawHttp.exchange(
            dp.port(),
            "POST /chunked-in HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                + "Connection: close\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-Sum: 5\r\n\r\n");
    assertThat(raw).startsWith("HTTP/1.1 200 OK").endsWith("ok");
    assertThat(instance.lastChunkedBody).isEqualTo("5\r\nhello\r\n0\r\nX-Sum: 5\r\n\r\n");
  }

  @Test
  void pipelinedRequests_areAllAnswered_inOrder() throws Exception {
    // Each request's end (its empty last part) waits in the queue with the requests after it: an
    // exchange must take it from there, or the connection hangs after the second answer.
    String raw =
        RawHttp.exchange(
            dp.port(),
            "GET /hop HTTP/1.1\r\nHost: x\r\n\r\nGET /chunked HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET /hop HTTP/1.1\r\nHost: x\r\n\r\nGET /nothing HTTP/1.1\r\nHost: x\r\n"
                + "Connection: close\r\n\r\n");
    assertThat(raw).doesNotContain("(STILL OPEN)");
    assertThat(raw.split("HTTP/1.1 ", -1)).hasSize(5);
    assertThat(raw.indexOf("hello,")).isBetween(raw.indexOf("ok"), raw.lastIndexOf("ok"));
    assertThat(raw).contains("HTTP/1.1 404 Not Found");
  }

  @Test
  void theRequestTarget_isNeverEmpty_andAnAbsoluteOneHasAPath() {
    assertThat(RequestWriter.target("")).isEqualTo("/");
    assertThat(RequestWriter.target("/a?b=1")).isEqualTo("/a?b=1");
    assertThat(RequestWriter.target("http://h")).isEqualTo("http://h/");
    assertThat(RequestWriter.target("http://h?q=1")).isEqualTo("http://h/?q=1");
    assertThat(RequestWriter.target("http://h/p")).isEqualTo("http://h/p");
  }
}
