package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.openfeature.contrib.providers.ofrep.OfrepProvider;
import dev.openfeature.contrib.providers.ofrep.OfrepProviderOptions;
import dev.openfeature.sdk.Client;
import dev.openfeature.sdk.FlagEvaluationDetails;
import dev.openfeature.sdk.MutableContext;
import dev.openfeature.sdk.OpenFeatureAPI;
import dev.pilothouse.client.DaemonInfo;
import dev.pilothouse.client.Wire;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Feature flags with a real daemon and CLI, read by the OpenFeature Java SDK through its published
 * OFREP provider, as a user's service would read them.
 */
class FlagsTest {
  @TempDir Path tmp;

  static final String SPEC =
      "proxy: {port: 0}\n"
          + "flags:\n"
          + "  new-checkout:\n"
          + "    default: off\n"
          + "    rules:\n"
          + "      - {name: staff, when: [{attribute: email, op: endsWith, values: ['@example.com']}],"
          + " variant: on}\n"
          + "      - {name: rollout, split: {on: 50, off: 50}}\n"
          + "  banner:\n"
          + "    type: string\n"
          + "    variants: {plain: 'Welcome', sale: 'Sale now on'}\n"
          + "    default: plain\n"
          + "services:\n  shop:\n    "
          + Harness.demoCommand()
          + "    replicas: 1\n";

  @Test
  void specFlags_areServedOverOfrep_toTheOpenFeatureSdk_andTheCliSteersThem() throws Exception {
    try (Harness h = new Harness(tmp)) {
      h.up(h.writeSpec("shop.yaml", SPEC));
      String api = h.client().base();
      String token = h.ok("flags", "token").out().trim(); // reads flags, nothing else
      assertThat(token).isNotEqualTo(DaemonInfo.readToken(h.stateDir));
      java.net.http.HttpResponse<String> refused =
          java.net.http.HttpClient.newHttpClient()
              .send(
                  java.net.http.HttpRequest.newBuilder(java.net.URI.create(api + "/api/v1/flags"))
                      .header("Authorization", "Bearer " + token)
                      .build(),
                  java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(refused.statusCode()).as("the flags token is no API token").isEqualTo(401);
      OpenFeatureAPI of = OpenFeatureAPI.getInstance();
      of.setProviderAndWait(
          OfrepProvider.constructProvider(
              OfrepProviderOptions.builder()
                  .baseUrl(api)
                  .headers(ImmutableMap.of("Authorization", ImmutableList.of("Bearer " + token)))
                  .requestTimeout(Duration.ofSeconds(5))
                  .build()));
      Client flags = of.getClient();

      FlagEvaluationDetails<Boolean> staff =
          flags.getBooleanDetails(
              "new-checkout", false, new MutableContext("ann").add("email", "ann@example.com"));
      assertThat(staff.getValue()).isTrue();
      assertThat(staff.getReason()).isEqualTo("TARGETING_MATCH");
      assertThat(staff.getVariant()).isEqualTo("on");

      int on = 0;
      for (int i = 0; i < 200; i++) {
        FlagEvaluationDetails<Boolean> d =
            flags.getBooleanDetails("new-checkout", false, new MutableContext("user-" + i));
        assertThat(d.getReason()).isEqualTo("SPLIT");
        on += d.getValue() ? 1 : 0;
        assertThat(flags.getBooleanValue("new-checkout", false, new MutableContext("user-" + i)))
            .as("a user keeps their variant")
            .isEqualTo(d.getValue());
      }
      assertThat(on).as("about half of 200 users").isBetween(70, 130);
      assertThat(flags.getStringValue("banner", "?", new MutableContext("x"))).isEqualTo("Welcome");

      // The kill switch, from the CLI: everyone gets the default (off), reason DISABLED.
      h.ok("flags", "set", "new-checkout", "--disable");
      FlagEvaluationDetails<Boolean> killed =
          flags.getBooleanDetails(
              "new-checkout", true, new MutableContext("ann").add("email", "ann@example.com"));
      assertThat(killed.getValue()).isFalse();
      assertThat(killed.getReason()).isEqualTo("DISABLED");

      // A missing flag: the SDK's default, with the protocol's error code.
      FlagEvaluationDetails<Boolean> missing =
          flags.getBooleanDetails("no-such-flag", true, new MutableContext("x"));
      assertThat(missing.getValue()).isTrue();
      assertThat(missing.getErrorCode()).hasToString("FLAG_NOT_FOUND");

      // A bad change is refused with the field named, and nothing changes.
      Harness.Result bad = h.cli("flags", "set", "new-checkout", "--default", "maybe");
      assertThat(bad.exit()).isNotZero();
      assertThat(bad.err()).contains("default: no variant named 'maybe'");

      h.ok("flags", "set", "new-checkout", "--enable", "--rollout", "on=100,off=0");
      assertThat(flags.getBooleanValue("new-checkout", false, new MutableContext("bob"))).isTrue();

      assertThat(h.ok("flags", "list").out()).contains("new-checkout").contains("banner");
      String history = h.ok("flags", "history", "new-checkout").out();
      assertThat(history).contains("spec r1").contains("cli");
      assertThat(h.client().events(-1, 500)).extracting(Wire.Event::type).contains("FlagChanged");
      assertThat(h.client().events(-1, 500))
          .extracting(Wire.Event::message)
          .contains("flag new-checkout disabled (kill switch) (by cli)");

      // Re-applying the same spec keeps the CLI's changes (the spec's definition did not change).
      h.ok("apply", "-f", h.writeSpec("shop.yaml", SPEC).toString());
      assertThat(flags.getBooleanValue("new-checkout", false, new MutableContext("bob"))).isTrue();
    } finally {
      OpenFeatureAPI.getInstance().shutdown();
    }
  }

  @Test
  void gradualChange_stepsUpWhileChecksHold_andAFailedCheckPutsEveryoneBack() throws Exception {
    java.util.concurrent.atomic.AtomicInteger answer =
        new java.util.concurrent.atomic.AtomicInteger(200);
    com.sun.net.httpserver.HttpServer hook =
        com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    hook.createContext(
        "/",
        x -> {
          x.getRequestBody().readAllBytes();
          x.sendResponseHeaders(answer.get(), -1);
          x.close();
        });
    hook.start();
    try (Harness h = new Harness(tmp)) {
      h.up(
          h.writeSpec(
              "shop.yaml",
              SPEC.replace(
                  "proxy: {port: 0}\n", "proxy: {port: 0}\nmetrics: {scrapeInterval: 1s}\n")));
      String token = h.ok("flags", "token").out().trim();
      OpenFeatureAPI of = OpenFeatureAPI.getInstance();
      of.setProviderAndWait(
          OfrepProvider.constructProvider(
              OfrepProviderOptions.builder()
                  .baseUrl(h.client().base())
                  .headers(ImmutableMap.of("Authorization", ImmutableList.of("Bearer " + token)))
                  .requestTimeout(Duration.ofSeconds(5))
                  .build()));
      Client flags = of.getClient();
      String hookUrl = "http://127.0.0.1:" + hook.getAddress().getPort() + "/ok";
      // Steps up while both checks hold (a real PromQL condition and a webhook), then completes.
      h.ok(
          "flags",
          "rollout",
          "start",
          "banner",
          "--to",
          "sale",
          "--steps",
          "10,50,100",
          "--every",
          "1s",
          "--check-promql",
          "up{job=\"pilothouse\"} == 1",
          "--check-webhook",
          hookUrl);
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> status(h).path("phase").asText().equals("Completed"));
      assertThat(flags.getStringValue("banner", "?", new MutableContext("anyone")))
          .isEqualTo("Sale now on");
      assertThat(h.ok("flags", "get", "banner").out()).contains("default sale");

      // Back to plain, half the users at once; the webhook check starts failing: everyone back.
      h.ok(
          "flags",
          "rollout",
          "start",
          "banner",
          "--to",
          "plain",
          "--steps",
          "50,100",
          "--every",
          "1h",
          "--check-webhook",
          hookUrl);
      int plain = 0;
      for (int i = 0; i < 200; i++) {
        plain +=
            flags.getStringValue("banner", "?", new MutableContext("user-" + i)).equals("Welcome")
                ? 1
                : 0;
      }
      assertThat(plain).as("about half of 200 users at 50%").isBetween(70, 130);
      answer.set(500);
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(15))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> status(h).path("phase").asText().equals("RolledBack"));
      assertThat(
              new com.fasterxml.jackson.databind.ObjectMapper()
                  .readTree(h.ok("flags", "rollout", "status", "banner", "-o", "json").out())
                  .path("reason")
                  .asText())
          .startsWith("check failed at 50%: webhook-1: webhook answered 500");
      for (int i = 0; i < 200; i++) {
        assertThat(flags.getStringValue("banner", "?", new MutableContext("user-" + i)))
            .isEqualTo("Sale now on");
      }
      assertThat(h.client().events(-1, 500))
          .extracting(Wire.Event::type)
          .contains(
              "FlagRolloutStarted",
              "FlagRolloutStep",
              "FlagRolloutCompleted",
              "FlagRolloutRolledBack");
      Harness.Result bad =
          h.cli("flags", "rollout", "start", "banner", "--to", "nope", "--steps", "50,20");
      assertThat(bad.exit()).isNotZero();
      assertThat(bad.err()).contains("steps[1]: 20 does not rise above 50");
    } finally {
      hook.stop(0);
      OpenFeatureAPI.getInstance().shutdown();
    }
  }

  /** The banner's rollout over the API (polled; the CLI's -o json is checked once). */
  static com.fasterxml.jackson.databind.JsonNode status(Harness h) {
    return h.client().flagRollout("banner");
  }
}
