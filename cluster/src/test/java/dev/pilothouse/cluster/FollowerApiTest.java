package dev.pilothouse.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A follower's API over real sockets, in front of a real HTTP server standing in as the leader. */
class FollowerApiTest {
  private final HttpClient http = HttpClient.newHttpClient();
  private HttpServer leader;
  private final CountDownLatch streamMayEnd = new CountDownLatch(1);
  private MemoryLeases leases;
  private Elector elector;
  private FollowerApi follower;

  @BeforeEach
  void start() throws Exception {
    leader = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
    leader.createContext(
        "/api/v1/echo",
        x -> {
          byte[] body = x.getRequestBody().readAllBytes();
          String answer =
              x.getRequestMethod()
                  + " "
                  + x.getRequestURI()
                  + " auth="
                  + x.getRequestHeaders().getFirst("Authorization")
                  + " via="
                  + x.getRequestHeaders().getFirst("X-Pilothouse-Follower")
                  + " body="
                  + new String(body, StandardCharsets.UTF_8);
          x.getResponseHeaders().set("X-Leader", "yes");
          byte[] b = answer.getBytes(StandardCharsets.UTF_8);
          x.sendResponseHeaders(201, b.length);
          x.getResponseBody().write(b);
          x.close();
        });
    leader.createContext(
        "/api/v1/stream",
        x -> {
          x.sendResponseHeaders(200, 0);
          OutputStream out = x.getResponseBody();
          out.write("first\n".getBytes(StandardCharsets.UTF_8));
          out.flush();
          try {
            streamMayEnd.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          out.write("second\n".getBytes(StandardCharsets.UTF_8));
          x.close();
        });
    leader.start();
    leases = new MemoryLeases();
    leases.seize(
        "the-leader", "http://127.0.0.1:" + leader.getAddress().getPort(), Duration.ofMinutes(1));
    elector =
        new Elector(
            leases,
            "me",
            "http://127.0.0.1:0",
            "site",
            ElectorTest.FAST,
            new ElectorTest.Recorder());
    elector.start();
    await().atMost(Duration.ofSeconds(5)).until(() -> elector.leader().isPresent());
    follower = FollowerApi.bind("127.0.0.1", 0).serve(elector, h -> "Bearer secret".equals(h));
  }

  @AfterEach
  void stop() {
    follower.close();
    elector.close();
    leader.stop(0);
  }

  private String base() {
    return "http://127.0.0.1:" + follower.port();
  }

  @Test
  void everyOtherCall_isForwardedToTheLeader_asItCame() throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(base() + "/api/v1/echo?replicas=3&x=a%20b"))
                .header("Authorization", "Bearer caller-token")
                .POST(HttpRequest.BodyPublishers.ofString("{\"spec\":1}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(201);
    assertThat(r.headers().firstValue("X-Leader")).hasValue("yes");
    assertThat(r.body())
        .isEqualTo(
            "POST /api/v1/echo?replicas=3&x=a%20b auth=Bearer caller-token via=me body={\"spec\":1}");
  }

  @Test
  void streams_reachTheCallerAsTheyCome() throws Exception {
    HttpResponse<java.io.InputStream> r =
        http.send(
            HttpRequest.newBuilder(URI.create(base() + "/api/v1/stream")).build(),
            HttpResponse.BodyHandlers.ofInputStream());
    var lines =
        new java.io.BufferedReader(new java.io.InputStreamReader(r.body(), StandardCharsets.UTF_8));
    assertThat(lines.readLine()).as("before the leader ends the stream").isEqualTo("first");
    streamMayEnd.countDown();
    assertThat(lines.readLine()).isEqualTo("second");
  }

  @Test
  void whoLeads_isAnsweredHere_withTheToken() throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(base() + "/api/v1/leader"))
                .header("Authorization", "Bearer secret")
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body())
        .contains(
            "\"self\":\"me\"", "\"role\":\"follower\"", "\"id\":\"the-leader\"", "\"term\":1");
    HttpResponse<String> no =
        http.send(
            HttpRequest.newBuilder(URI.create(base() + "/api/v1/leader")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(no.statusCode()).isEqualTo(401);
    assertThat(no.body()).contains("missing or wrong API token");
  }

  @Test
  void aLeaderThatDoesNotAnswer_andNoLeader_are503WithRetryAfter() throws Exception {
    leader.stop(0);
    HttpResponse<String> gone =
        http.send(
            HttpRequest.newBuilder(URI.create(base() + "/api/v1/echo")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(gone.statusCode()).isEqualTo(503);
    assertThat(gone.headers().firstValue("Retry-After")).hasValue("2");
    assertThat(gone.body()).contains("does not answer", "a follower takes over");

    // the leader lets the lease go; this daemon takes it and, while it starts, forwards nowhere
    leases.release("the-leader", 1);
    await().atMost(Duration.ofSeconds(5)).until(elector::leading);
    HttpResponse<String> none =
        http.send(
            HttpRequest.newBuilder(URI.create(base() + "/api/v1/echo")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(none.statusCode()).isEqualTo(503);
    assertThat(none.body()).contains("no daemon leads yet");
  }

  @Test
  void aBodyOverTheBound_isRefusedWith413() throws Exception {
    byte[] big = new byte[FollowerApi.MAX_BODY + 1];
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(base() + "/api/v1/echo"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(big))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(413);
    assertThat(r.body()).contains("request body over 16 MiB");
  }
}
