package dev.pilothouse.ui;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pilothouse.client.ApiException;
import dev.pilothouse.client.PilotClient;
import dev.pilothouse.client.Wire;
import gg.jte.ContentType;
import gg.jte.TemplateEngine;
import gg.jte.output.StringOutput;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HttpStatus;
import io.javalin.http.sse.SseClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dashboard at the API's port (docs/dashboard.md): a login with an API token, server-rendered
 * pages that read without JavaScript, live over the event stream, and buttons that call the same
 * API as the CLI with the logged-in token (so every change is an event naming that token).
 */
public final class Dashboard {
  private static final Logger log = LoggerFactory.getLogger(Dashboard.class);

  /** The session cookie: HttpOnly, SameSite=Strict, Secure over HTTPS. */
  static final String COOKIE = "pilothouse_session";

  /** Live streams (events, log tails) held at once across all browsers; more are refused. */
  static final int MAX_STREAMS = 256;

  /** Form fields and query parameters longer than this are refused. */
  static final int MAX_FIELD = 8192;

  /**
   * How the dashboard reaches the daemon and checks logins.
   *
   * @param api the API's base address (known once it listens)
   * @param fingerprint the SHA-256 fingerprint of the API's TLS certificate (null over HTTP)
   * @param logins checks a token typed into the login form
   * @param sessionTtl how long a login lasts
   */
  public record Options(
      Supplier<String> api,
      Supplier<String> fingerprint,
      Logins logins,
      Duration sessionTtl,
      InstantSource clock,
      String version) {}

  /** Checks a token typed into the login form, as the API checks one sent to it. */
  @FunctionalInterface
  public interface Logins {
    Login check(String address, String token);
  }

  /**
   * The outcome of a login: the token's name and role, or why it was refused (and for how long the
   * address is locked out after too many failures).
   */
  public record Login(String name, String role, String refusal, long retryAfterSeconds) {
    public static Login accepted(String name, String role) {
      return new Login(name, role, null, 0);
    }

    public static Login refused(String why, long retryAfterSeconds) {
      return new Login(null, null, why, retryAfterSeconds);
    }
  }

  private static final RandomGenerator ERROR_IDS = new java.security.SecureRandom();

  private final Options options;
  private final Sessions sessions;
  private final TemplateEngine templates = TemplateEngine.createPrecompiled(ContentType.Html);
  private final Semaphore streams = new Semaphore(MAX_STREAMS);

  public Dashboard(Options options) {
    this.options = options;
    this.sessions = new Sessions(options.clock(), options.sessionTtl());
  }

  /** Adds the dashboard's routes to the API's server. */
  public void routes(JavalinConfig config) {
    config.routes.get(
        "/",
        page(
            "overview",
            (ctx, s, api) -> Pages.overview(view(ctx, s, "Overview", "overview"), api)));
    config.routes.get("/login", this::loginForm);
    config.routes.post("/login", this::login);
    config.routes.post("/logout", this::logout);
    config.routes.get(
        "/services/{name}",
        page(
            "service",
            (ctx, s, api) ->
                Pages.service(
                    view(ctx, s, ctx.pathParam("name"), "overview"),
                    api,
                    ctx.pathParam("name"),
                    range(ctx))));
    config.routes.post(
        "/services/{name}/scale",
        action(
            (ctx, s, api) -> {
              String name = ctx.pathParam("name");
              int replicas = replicas(ctx.formParam("replicas"));
              api.scale(name, replicas);
              return "Scaled " + name + " to " + replicas + " instance(s).";
            },
            ctx -> null,
            ctx -> "/services/" + enc(ctx.pathParam("name"))));
    config.routes.post(
        "/services/{name}/restart",
        action(
            (ctx, s, api) -> {
              api.restart(ctx.pathParam("name"));
              return "Restarting " + ctx.pathParam("name") + ", one instance at a time.";
            },
            ctx -> "Restart every instance of " + ctx.pathParam("name") + ", one at a time?",
            ctx -> "/services/" + enc(ctx.pathParam("name"))));
    config.routes.get(
        "/rollouts/{name}",
        page(
            "rollout",
            (ctx, s, api) ->
                Pages.rollout(
                    view(ctx, s, "Rollout of " + ctx.pathParam("name"), "overview"),
                    api,
                    ctx.pathParam("name"),
                    range(ctx))));
    config.routes.post(
        "/rollouts/{name}/{action}",
        action(
            (ctx, s, api) -> {
              String name = ctx.pathParam("name");
              String what = ctx.pathParam("action");
              Wire.Rollout r = api.rolloutAction(name, what);
              return "Rollout of " + name + ": " + what + " → " + r.phase() + ".";
            },
            ctx ->
                switch (ctx.pathParam("action")) {
                  case "promote" ->
                      "Promote the rollout of " + ctx.pathParam("name") + " to all traffic now?";
                  case "abort" ->
                      "Abort the rollout of "
                          + ctx.pathParam("name")
                          + " and send all traffic back to the stable version?";
                  case "pause" -> "Pause the rollout of " + ctx.pathParam("name") + "?";
                  default -> "Resume the rollout of " + ctx.pathParam("name") + "?";
                },
            ctx -> "/rollouts/" + enc(ctx.pathParam("name"))));
    config.routes.get(
        "/explore",
        page(
            "explore",
            (ctx, s, api) ->
                Pages.explore(
                    view(ctx, s, "Metrics", "explore"),
                    api,
                    bounded(ctx.queryParam("query")),
                    range(ctx))));
    config.routes.get(
        "/events",
        page(
            "events",
            (ctx, s, api) ->
                Pages.events(
                    view(ctx, s, "Events", "events"),
                    api,
                    Optional.ofNullable(bounded(ctx.queryParam("type"))).orElse(""),
                    Optional.ofNullable(bounded(ctx.queryParam("service"))).orElse(""),
                    limit(ctx.queryParam("limit")))));
    config.routes.get(
        "/dora",
        page(
            "dora",
            (ctx, s, api) ->
                Pages.dora(
                    view(ctx, s, "DORA", "dora"),
                    api,
                    Optional.ofNullable(bounded(ctx.queryParam("since"))).orElse("30d"))));
    config.routes.get(
        "/alerts",
        page(
            "alerts",
            (ctx, s, api) ->
                Pages.alerts(
                    view(ctx, s, "Alerts", "alerts"), api, bounded(ctx.queryParam("silence")))));
    config.routes.post(
        "/silences",
        action(
            (ctx, s, api) -> {
              String id =
                  api.addSilence(
                      Silences.of(
                          ctx.formParam("matchers"),
                          ctx.formParam("duration"),
                          ctx.formParam("comment"),
                          s.name,
                          options.clock().instant()));
              return "Silence " + id + " created.";
            },
            ctx -> null,
            ctx -> "/alerts"));
    config.routes.post(
        "/silences/{id}/expire",
        action(
            (ctx, s, api) -> {
              api.expireSilence(ctx.pathParam("id"));
              return "Silence " + ctx.pathParam("id") + " expired.";
            },
            ctx -> "Expire silence " + ctx.pathParam("id") + " now?",
            ctx -> "/alerts"));
    config.routes.get(
        "/incidents",
        page(
            "incidents",
            (ctx, s, api) -> Pages.incidents(view(ctx, s, "Incidents", "incidents"), api)));
    config.routes.get(
        "/incidents/{id}",
        page(
            "incident",
            (ctx, s, api) ->
                Pages.incident(
                    view(ctx, s, "Incident " + ctx.pathParam("id"), "incidents"),
                    api,
                    id(ctx.pathParam("id")))));
    config.routes.post(
        "/incidents/{id}/{action}",
        action(
            (ctx, s, api) -> {
              String what = ctx.pathParam("action");
              if (!what.equals("ack") && !what.equals("resolve")) {
                throw new BadInput("unknown incident action '" + what + "'", "ack or resolve");
              }
              api.incidentAction(id(ctx.pathParam("id")), what, s.name);
              return "Incident "
                  + ctx.pathParam("id")
                  + (what.equals("ack") ? " acknowledged." : " resolved.");
            },
            ctx -> ctx.pathParam("action").equals("resolve") ? "Resolve this incident?" : null,
            ctx -> "/incidents/" + enc(ctx.pathParam("id"))));
    config.routes.get(
        "/autoscaling",
        page(
            "autoscaling",
            (ctx, s, api) -> Pages.autoscaling(view(ctx, s, "Autoscaling", "autoscaling"), api)));
    config.routes.get(
        "/backups",
        page("backups", (ctx, s, api) -> Pages.backups(view(ctx, s, "Backups", "backups"), api)));
    config.routes.get(
        "/chaos", page("chaos", (ctx, s, api) -> Pages.chaos(view(ctx, s, "Chaos", "chaos"), api)));
    config.routes.post(
        "/chaos/runs/{id}/abort",
        action(
            (ctx, s, api) -> {
              api.chaosAbort(ctx.pathParam("id"));
              return "Aborting chaos run " + ctx.pathParam("id") + ": its faults are rolled back.";
            },
            ctx -> "Abort this run and roll its faults back?",
            ctx -> "/chaos"));
    config.routes.post(
        "/chaos/disable",
        action(
            (ctx, s, api) -> {
              api.chaosDisable("disabled from the dashboard by " + s.name);
              return "Chaos disabled: runs aborted, none starts until enabled.";
            },
            ctx -> "Abort every run and stop all chaos until enabled?",
            ctx -> "/chaos"));
    config.routes.post(
        "/chaos/enable",
        action(
            (ctx, s, api) -> {
              api.chaosEnable();
              return "Chaos enabled.";
            },
            ctx -> "Allow chaos experiments again?",
            ctx -> "/chaos"));
    config.routes.get(
        "/cost",
        page(
            "cost",
            (ctx, s, api) ->
                Pages.cost(
                    view(ctx, s, "Cost", "cost"),
                    api,
                    Optional.ofNullable(bounded(ctx.queryParam("by"))).orElse("service"),
                    Optional.ofNullable(bounded(ctx.queryParam("period"))).orElse(""))));
    config.routes.get(
        "/security",
        page(
            "security",
            (ctx, s, api) -> Pages.security(view(ctx, s, "Security", "security"), api)));
    config.routes.get("/ui/static/{file}", this::asset);
    config.routes.get("/ui/series", this::series);
    config.routes.get("/ui/labels", this::labels);
    config.routes.sse("/ui/stream", this::events);
    config.routes.sse("/ui/services/{name}/logs", this::logs);
  }

  // --- pages

  @FunctionalInterface
  private interface PageBody {
    Object build(Context ctx, Sessions.Session s, PilotClient api);
  }

  @FunctionalInterface
  private interface ActionBody {
    String run(Context ctx, Sessions.Session s, PilotClient api);
  }

  /**
   * What every page shows. The message of the last button goes to the page the browser is sent to,
   * never to the page's own re-reads (its script keeps the message on screen meanwhile).
   */
  private Views.Page view(Context ctx, Sessions.Session s, String title, String nav) {
    boolean reread = ctx.header(REREAD) != null;
    return new Views.Page(
        title,
        nav,
        s.name,
        s.role,
        s.canOperate(),
        s.csrf,
        reread ? null : s.takeFlash(),
        options.version());
  }

  /** The header of a page's script re-reading it on an event. */
  static final String REREAD = "X-Pilothouse-Reread";

  private Handler page(String template, PageBody body) {
    return ctx -> {
      headers(ctx);
      Optional<Sessions.Session> s = session(ctx);
      if (s.isEmpty()) {
        String next = ctx.path() + (ctx.queryString() == null ? "" : "?" + ctx.queryString());
        ctx.redirect("/login?next=" + enc(next), HttpStatus.SEE_OTHER);
        return;
      }
      try {
        render(ctx, template, body.build(ctx, s.get(), client(s.get())));
      } catch (ApiException e) {
        problem(ctx, s.get(), e);
      } catch (BadInput e) {
        render(
            ctx.status(400),
            "problem",
            new Views.Problem(view(ctx, s.get(), "Bad request", ""), 400, e.getMessage(), e.hint));
      } catch (RuntimeException e) {
        internal(ctx, s.get(), e);
      }
    };
  }

  /**
   * A button: checks the session, the form's CSRF token and the request's origin, asks for
   * confirmation when the browser did not (no script), calls the API, and goes back to the page
   * with what happened.
   */
  private Handler action(
      ActionBody body,
      java.util.function.Function<Context, String> question,
      java.util.function.Function<Context, String> back) {
    return ctx -> {
      headers(ctx);
      Optional<Sessions.Session> found = session(ctx);
      if (found.isEmpty()) {
        ctx.redirect("/login", HttpStatus.SEE_OTHER);
        return;
      }
      Sessions.Session s = found.get();
      String origin = ctx.header("Origin");
      if ((origin != null && !origin.equals("null") && !origin.equals(self(ctx)))
          || !s.csrfMatches(ctx.formParam("csrf"))) {
        render(
            ctx.status(403),
            "problem",
            new Views.Problem(
                view(ctx, s, "Refused", ""),
                403,
                "this form did not come from this dashboard (cross-site request refused)",
                "reload the page and use its buttons"));
        return;
      }
      String ask = question.apply(ctx);
      if (ask != null && !"yes".equals(ctx.formParam("confirmed"))) {
        List<Views.Field> fields = new ArrayList<>();
        for (Map.Entry<String, List<String>> f : ctx.formParamMap().entrySet()) {
          if (!f.getKey().equals("confirmed") && !f.getKey().equals("csrf")) {
            fields.add(
                new Views.Field(f.getKey(), f.getValue().isEmpty() ? "" : f.getValue().get(0)));
          }
        }
        render(
            ctx,
            "confirm",
            new Views.Confirm(
                view(ctx, s, "Confirm", ""), ask, ctx.path(), fields, back.apply(ctx)));
        return;
      }
      try {
        s.flash(body.run(ctx, s, client(s)));
      } catch (ApiException e) {
        if (e.status() == 401) {
          sessions.close(s.id);
          ctx.redirect("/login?expired=1", HttpStatus.SEE_OTHER);
          return;
        }
        s.flash(
            "Refused: "
                + e.getMessage()
                + (e.body() == null || e.body().hint() == null ? "" : " — " + e.body().hint()));
      } catch (BadInput e) {
        s.flash("Refused: " + e.getMessage() + " — " + e.hint);
      } catch (RuntimeException e) {
        String id = HexFormat.of().toHexDigits(ERROR_IDS.nextInt());
        log.error("dashboard action {} failed (error id {})", ctx.path(), id, e);
        s.flash("Failed: internal error " + id + " (see daemon.log)");
      }
      ctx.redirect(back.apply(ctx), HttpStatus.SEE_OTHER);
    };
  }

  private void problem(Context ctx, Sessions.Session s, ApiException e) {
    if (e.status() == 401) {
      // the token was revoked or expired since the login
      sessions.close(s.id);
      ctx.redirect("/login?expired=1", HttpStatus.SEE_OTHER);
      return;
    }
    int status = e.status() == 0 ? 503 : e.status();
    render(
        ctx.status(status),
        "problem",
        new Views.Problem(
            view(ctx, s, "Problem", ""),
            status,
            e.getMessage(),
            e.body() == null || e.body().hint() == null ? "" : e.body().hint()));
  }

  private void internal(Context ctx, Sessions.Session s, RuntimeException e) {
    String id = HexFormat.of().toHexDigits(ERROR_IDS.nextInt());
    log.error("dashboard page {} failed (error id {})", ctx.path(), id, e);
    render(
        ctx.status(500),
        "problem",
        new Views.Problem(
            view(ctx, s, "Problem", ""),
            500,
            "internal error " + id,
            "see daemon.log in the state directory for error id " + id));
  }

  private void render(Context ctx, String template, Object model) {
    StringOutput out = new StringOutput();
    templates.render(template + ".jte", model, out);
    ctx.html(out.toString());
  }

  // --- logging in and out

  private void loginForm(Context ctx) {
    headers(ctx);
    if (session(ctx).isPresent()) {
      ctx.redirect(next(ctx.queryParam("next")), HttpStatus.SEE_OTHER);
      return;
    }
    String error =
        ctx.queryParam("expired") != null
            ? "Your session ended (it expired, or its token was revoked). Log in again."
            : null;
    render(ctx, "login", new Views.Login(error, options.version(), next(ctx.queryParam("next"))));
  }

  private void login(Context ctx) {
    headers(ctx);
    String token = Optional.ofNullable(ctx.formParam("token")).orElse("").trim();
    String next = next(ctx.formParam("next"));
    String origin = ctx.header("Origin");
    if (origin != null && !origin.equals("null") && !origin.equals(self(ctx))) {
      render(
          ctx.status(403),
          "login",
          new Views.Login("Cross-site login refused.", options.version(), next));
      return;
    }
    if (token.isEmpty() || token.length() > MAX_FIELD) {
      render(
          ctx.status(400),
          "login",
          new Views.Login(
              "Type an API token: the daemon's (in STATE_DIR/api-token) or one made by"
                  + " 'pilothouse token create'.",
              options.version(),
              next));
      return;
    }
    Login l = options.logins().check(ctx.ip(), token);
    if (l.refusal() != null) {
      if (l.retryAfterSeconds() > 0) {
        ctx.header("Retry-After", Long.toString(l.retryAfterSeconds()));
      }
      // The form again with why (200: a browser shows it as a page, not a failed load); a
      // locked-out address gets 429 with Retry-After.
      render(
          ctx.status(l.retryAfterSeconds() > 0 ? 429 : 200),
          "login",
          new Views.Login("Not logged in: " + l.refusal() + ".", options.version(), next));
      return;
    }
    Sessions.Session s = sessions.open(token, l.name(), l.role());
    ctx.header("Set-Cookie", cookie(ctx, s.id, sessions.ttl().toSeconds()));
    ctx.redirect(next, HttpStatus.SEE_OTHER);
  }

  private void logout(Context ctx) {
    headers(ctx);
    Optional<Sessions.Session> s = session(ctx);
    if (s.isPresent() && s.get().csrfMatches(ctx.formParam("csrf"))) {
      sessions.close(s.get().id);
    }
    ctx.header("Set-Cookie", cookie(ctx, "", 0));
    ctx.redirect("/login", HttpStatus.SEE_OTHER);
  }

  private static String cookie(Context ctx, String value, long maxAge) {
    return COOKIE
        + "="
        + value
        + "; Path=/; Max-Age="
        + maxAge
        + "; HttpOnly; SameSite=Strict"
        + (ctx.scheme().equals("https") ? "; Secure" : "");
  }

  /** Where to go after logging in: a path of this dashboard, never another site. */
  private static String next(String next) {
    if (next == null
        || !next.startsWith("/")
        || next.startsWith("//")
        || next.startsWith("/\\")
        || next.length() > MAX_FIELD) {
      return "/";
    }
    return next;
  }

  private Optional<Sessions.Session> session(Context ctx) {
    return sessions.find(ctx.cookie(COOKIE));
  }

  private PilotClient client(Sessions.Session s) {
    return PilotClient.of(options.api().get(), s.token, options.fingerprint().get());
  }

  private static String self(Context ctx) {
    return ctx.scheme() + "://" + ctx.host();
  }

  /**
   * Every page: no caching, no framing, scripts and styles from this daemon only (no inline
   * script), no sniffing.
   */
  private static void headers(Context ctx) {
    ctx.header("Cache-Control", "no-store");
    ctx.header(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
            + " connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'");
    ctx.header("X-Content-Type-Options", "nosniff");
    ctx.header("X-Frame-Options", "DENY");
    ctx.header("Referrer-Policy", "same-origin");
  }

  // --- inputs

  /** A form or query value the user got wrong, with how to fix it. */
  static final class BadInput extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final String hint;

    BadInput(String message, String hint) {
      super(message);
      this.hint = hint;
    }
  }

  private static String bounded(String v) {
    if (v != null && v.length() > MAX_FIELD) {
      throw new BadInput(
          "a field of " + v.length() + " characters is too long (at most " + MAX_FIELD + ")",
          "shorten it");
    }
    return v;
  }

  private static String range(Context ctx) {
    String r = ctx.queryParam("range");
    if (r == null || r.isEmpty()) {
      return Pages.DEFAULT_RANGE;
    }
    if (!Pages.RANGES.contains(r)) {
      throw new BadInput(
          "unknown range '" + (r.length() > 20 ? r.substring(0, 20) + "…" : r) + "'",
          "use one of " + String.join(", ", Pages.RANGES));
    }
    return r;
  }

  static Duration rangeDuration(String r) {
    return switch (r) {
      case "15m" -> Duration.ofMinutes(15);
      case "6h" -> Duration.ofHours(6);
      case "24h" -> Duration.ofHours(24);
      case "7d" -> Duration.ofDays(7);
      default -> Duration.ofHours(1);
    };
  }

  private static long id(String v) {
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new BadInput("'" + v + "' is not an incident number", "open one from /incidents");
    }
  }

  private static int limit(String v) {
    if (v == null || v.isEmpty()) {
      return 200;
    }
    try {
      int n = Integer.parseInt(v);
      if (n >= 1 && n <= 1000) {
        return n;
      }
    } catch (NumberFormatException e) {
      // refused below
    }
    throw new BadInput("limit must be a number from 1 to 1000", "for example limit=200");
  }

  private static int replicas(String v) {
    try {
      int n = Integer.parseInt(v == null ? "" : v.trim());
      if (n >= 0 && n <= 1000) {
        return n;
      }
    } catch (NumberFormatException e) {
      // refused below
    }
    throw new BadInput(
        "replicas must be a whole number from 0 to 1000, not '" + v + "'", "type a number");
  }

  /** A value for a URL's query. */
  public static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  // --- assets, chart data, streams

  private static final Map<String, String[]> ASSETS =
      Map.of(
          "app.js", new String[] {"/dev/pilothouse/ui/static/app.js", "text/javascript"},
          "app.css", new String[] {"/dev/pilothouse/ui/static/app.css", "text/css"},
          "uPlot.js",
              new String[] {
                "/META-INF/resources/webjars/uplot/1.6.30/dist/uPlot.iife.min.js", "text/javascript"
              },
          "uPlot.css",
              new String[] {
                "/META-INF/resources/webjars/uplot/1.6.30/dist/uPlot.min.css", "text/css"
              },
          "favicon.svg", new String[] {"/dev/pilothouse/ui/static/favicon.svg", "image/svg+xml"});

  private void asset(Context ctx) throws IOException {
    String[] a = ASSETS.get(ctx.pathParam("file"));
    if (a == null) {
      ctx.status(404).result("no such file");
      return;
    }
    try (InputStream in = Dashboard.class.getResourceAsStream(a[0])) {
      if (in == null) {
        ctx.status(404).result("no such file");
        return;
      }
      ctx.header("Cache-Control", "public, max-age=86400");
      ctx.header("X-Content-Type-Options", "nosniff");
      ctx.contentType(a[1] + (a[1].startsWith("text/") ? "; charset=utf-8" : ""));
      ctx.result(in.readAllBytes());
    }
  }

  /** A chart's data: the range query of the logged-in user, at about 240 points. */
  private void series(Context ctx) {
    Optional<Sessions.Session> s = session(ctx);
    ctx.header("Cache-Control", "no-store");
    if (s.isEmpty()) {
      ctx.status(401).json(Map.of("error", "log in again"));
      return;
    }
    String query = ctx.queryParam("query");
    if (query == null || query.isBlank() || query.length() > MAX_FIELD) {
      ctx.status(400).json(Map.of("error", "a query of 1 to " + MAX_FIELD + " characters"));
      return;
    }
    String r = Optional.ofNullable(ctx.queryParam("range")).orElse(Pages.DEFAULT_RANGE);
    if (!Pages.RANGES.contains(r)) {
      ctx.status(400).json(Map.of("error", "range is one of " + Pages.RANGES));
      return;
    }
    Duration d = rangeDuration(r);
    Instant end = options.clock().instant();
    double step = Math.max(5, Math.ceil(d.toSeconds() / 240.0));
    double endSeconds = Math.floor(end.getEpochSecond() / step) * step;
    try {
      Map<String, Object> data =
          client(s.get()).queryRange(query, endSeconds - d.toSeconds(), endSeconds, step);
      ctx.json(Map.of("status", "success", "data", data, "step", step));
    } catch (ApiException e) {
      ctx.status(e.status() == 0 ? 503 : e.status())
          .json(Map.of("status", "error", "error", String.valueOf(e.getMessage())));
    }
  }

  /** Label names of a metric, for the explorer's suggestions. */
  private void labels(Context ctx) {
    Optional<Sessions.Session> s = session(ctx);
    ctx.header("Cache-Control", "no-store");
    if (s.isEmpty()) {
      ctx.status(401).json(Map.of("error", "log in again"));
      return;
    }
    String metric = Optional.ofNullable(ctx.queryParam("metric")).orElse("");
    if (!metric.matches("[a-zA-Z_:][a-zA-Z0-9_:]{0,200}")) {
      ctx.status(400).json(Map.of("error", "metric is a metric name"));
      return;
    }
    try {
      ArrayNode names = Json.MAPPER.createArrayNode();
      Json.read(client(s.get()).getText("/api/v1/labels?match[]=" + enc(metric)))
          .path("data")
          .forEach(n -> names.add(n.asText()));
      ObjectNode out = Json.MAPPER.createObjectNode();
      out.set("labels", names);
      ctx.contentType("application/json").result(Json.write(out));
    } catch (ApiException e) {
      ctx.status(e.status() == 0 ? 503 : e.status()).json(Map.of("error", e.getMessage()));
    }
  }

  /** Relays the API's event stream to a page (it refreshes on events). */
  private void events(SseClient sse) {
    relay(
        sse,
        (api, stop) -> {
          long after = parseLong(sse.ctx().queryParam("after"));
          api.followEvents(
              after,
              e -> {
                if (stop.get()) {
                  throw new Stopped();
                }
                synchronized (sse) { // the keep-alive writes from another thread
                  sse.sendEvent("event", Json.write(e), Long.toString(e.seq()));
                }
              });
        });
  }

  /** Relays a service's log tail (the last 10 minutes, then as lines come). */
  private void logs(SseClient sse) {
    String name = sse.ctx().pathParam("name");
    relay(
        sse,
        (api, stop) ->
            api.logs(
                name,
                null,
                "10m",
                true,
                new LineSink(
                    line -> {
                      if (stop.get()) {
                        throw new Stopped();
                      }
                      synchronized (sse) {
                        sse.sendEvent("line", line);
                      }
                    })));
  }

  private static final class Stopped extends RuntimeException {
    private static final long serialVersionUID = 1L;
  }

  @FunctionalInterface
  private interface Follow {
    void run(PilotClient api, Supplier<Boolean> stop);
  }

  /**
   * Follows an API stream on a thread of its own while this one keeps the browser's connection
   * alive; when the browser goes, the follower is interrupted (which closes its connection).
   */
  private void relay(SseClient sse, Follow follow) {
    Optional<Sessions.Session> s = session(sse.ctx());
    if (s.isEmpty() || !streams.tryAcquire()) {
      sse.ctx().status(s.isEmpty() ? 401 : 503);
      sse.close();
      return;
    }
    try {
      sse.keepAlive();
      java.util.concurrent.atomic.AtomicBoolean stop =
          new java.util.concurrent.atomic.AtomicBoolean();
      PilotClient api = client(s.get());
      Thread follower =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      follow.run(api, stop::get);
                    } catch (RuntimeException e) {
                      // the browser left, the token was revoked, or the daemon stops
                    }
                  });
      while (!sse.terminated() && follower.isAlive() && session(sse.ctx()).isPresent()) {
        follower.join(Duration.ofSeconds(15));
        if (follower.isAlive()) {
          synchronized (sse) {
            sse.sendComment("keep-alive");
          }
        }
      }
      stop.set(true);
      follower.interrupt();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      streams.release();
      sse.close();
    }
  }

  private static long parseLong(String v) {
    try {
      return v == null ? -1 : Long.parseLong(v);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** Cuts a byte stream into lines (at most 8 KiB each) for a consumer. */
  private static final class LineSink extends OutputStream {
    private final java.util.function.Consumer<String> lines;
    private final java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();

    LineSink(java.util.function.Consumer<String> lines) {
      this.lines = lines;
    }

    @Override
    public void write(int b) throws IOException {
      if (b == '\n') {
        emit();
      } else if (line.size() < MAX_FIELD) {
        line.write(b);
      }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      for (int i = off; i < off + len; i++) {
        write(b[i]);
      }
    }

    private void emit() throws IOException {
      String text = line.toString(StandardCharsets.UTF_8);
      line.reset();
      try {
        lines.accept(text);
      } catch (Stopped e) {
        throw new IOException("the browser left", e);
      }
    }
  }
}
