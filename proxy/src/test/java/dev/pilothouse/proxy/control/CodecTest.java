package dev.pilothouse.proxy.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pilothouse.proxy.Backend;
import dev.pilothouse.proxy.BackendGroup;
import dev.pilothouse.proxy.Match;
import dev.pilothouse.proxy.ProxyOptions;
import dev.pilothouse.proxy.Route;
import dev.pilothouse.proxy.RoutePolicy;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The control protocol's encoding: every field survives the trip, bad frames are refused. */
class CodecTest {
  static final ProxyOptions OPTIONS =
      new ProxyOptions(
          "0.0.0.0",
          8443,
          2,
          Path.of("/etc/tls/cert.pem"),
          Path.of("/etc/tls/key.pem"),
          Duration.ofSeconds(75),
          Path.of("/var/log/access.log"),
          0.25,
          1L << 30,
          7,
          List.of("10.0.0.0/8", "127.0.0.1"),
          Duration.ofMillis(1500));

  static final Route ROUTE =
      new Route(
          "shop",
          "shop.example.com",
          "/api",
          true,
          List.of(
              new BackendGroup(
                  "stable", 90, List.of(new Backend("shop-1", "shop", "v1", "127.0.0.1", 4001, 3))),
              new BackendGroup("canary", 10, List.of(Backend.of("shop-2", "shop", "v2", 4002)))),
          List.of(
              new Match(Match.Kind.HEADER, "x-canary", "always", "canary"),
              new Match(Match.Kind.COOKIE, "beta", "*", "canary"),
              new Match(Match.Kind.HEADER, "x-user", "beta-", "canary", Match.Op.PREFIX),
              new Match(Match.Kind.COOKIE, "team", "(ops|sre)", "canary", Match.Op.REGEX)),
          "canary",
          new RoutePolicy(
              Duration.ofMillis(250),
              Duration.ofSeconds(15),
              Duration.ofSeconds(90),
              2,
              0.2,
              3,
              RoutePolicy.Balancing.ROUND_ROBIN,
              100,
              200,
              300,
              new RoutePolicy.Outlier(5, Duration.ofSeconds(30), 50),
              new RoutePolicy.RateLimit(123.5, 40),
              new RoutePolicy.Fault(
                  Duration.ofMillis(7), 1.5, 503, 2.5, "x-fault", List.of(42L, 7L), true),
              new RoutePolicy.Hold(Duration.ofSeconds(30), 1000)),
          "pilothouse-shop");

  @Test
  void aSnapshotRequest_survivesTheTrip_fieldForField() throws IOException {
    Protocol.Request r =
        new Protocol.Request(
            Protocol.Op.APPLY, 42, OPTIONS, List.of(ROUTE), List.of("shop-1", "ü-2"), 99);
    assertThat(Codec.request(Codec.encode(r))).isEqualTo(r);

    Protocol.Request bare = Protocol.Request.of(Protocol.Op.HELLO);
    assertThat(Codec.request(Codec.encode(bare))).isEqualTo(bare);
  }

  @Test
  void aReply_survivesTheTrip() throws IOException {
    Protocol.Reply r =
        new Protocol.Reply(
            false,
            "cannot listen on 0.0.0.0:8443",
            1234,
            Protocol.VERSION,
            42,
            8443,
            "io_uring",
            OPTIONS,
            Map.of("shop-1", 3),
            "pilothouse_proxy_requests_total{} 1\n",
            10,
            2,
            new double[] {0.5, 12.25},
            Map.of("shop-1", 1_000_000_000_000L));
    Protocol.Reply back = Codec.reply(Codec.encode(r));
    assertThat(back).usingRecursiveComparison().ignoringFields("latenciesMs").isEqualTo(r);
    assertThat(Arrays.equals(back.latenciesMs(), r.latenciesMs())).isTrue();

    Protocol.Reply state = Protocol.state(1, 2, 0, "", null, "");
    assertThat(Codec.reply(Codec.encode(state))).isEqualTo(state);
  }

  @Test
  void aTruncatedOrOversizedMessage_isRefusedWithAnIoError() {
    byte[] whole =
        Codec.encode(new Protocol.Request(Protocol.Op.APPLY, 1, OPTIONS, List.of(ROUTE), null, 0));
    assertThatThrownBy(() -> Codec.request(Arrays.copyOf(whole, whole.length / 2)))
        .isInstanceOf(IOException.class);

    byte[] hugeList = {(byte) Protocol.Op.WINDOW.ordinal(), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    hugeList = Arrays.copyOf(hugeList, hugeList.length + 4);
    hugeList[hugeList.length - 4] = 0x7f; // a count of about two billion
    byte[] finalHuge = hugeList;
    assertThatThrownBy(() -> Codec.request(finalHuge))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("limit");

    byte[] badOp = {99};
    assertThatThrownBy(() -> Codec.request(badOp))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("unknown Op");
  }
}
