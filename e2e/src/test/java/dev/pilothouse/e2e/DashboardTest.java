package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pilothouse.client.Wire;
import dev.pilothouse.client.load.LoadResult;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in a real browser: Debian's Chromium, headless, driven by Selenium through Debian's
 * chromedriver. A user logs in, watches a killed instance being replaced, watches the bad canary
 * example roll back with its verdict, promotes the good one with the button, charts a query, and
 * creates and expires a silence. Screenshots of each page go to target/dashboard/.
 */
@HeavyLoad
class DashboardTest {
  @TempDir Path tmp;
  private WebDriver browser;

  private static final Path SHOTS = Path.of("target", "dashboard");

  @AfterEach
  void quit() {
    if (browser != null) {
      browser.quit();
    }
  }

  private WebDriver browser() {
    ChromeOptions o = new ChromeOptions();
    o.setBinary(executable("/usr/bin/chromium"));
    o.addArguments(
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--window-size=1400,1100",
        "--user-data-dir=" + tmp.resolve("chromium"));
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    o.setCapability("goog:loggingPrefs", logs);
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(new File(executable("/usr/bin/chromedriver")))
            .usingAnyFreePort()
            .build();
    return new ChromeDriver(service, o);
  }

  private static String executable(String path) {
    assertThat(Path.of(path))
        .as("%s (Debian's chromium and chromium-driver; ./test installs them)", path)
        .isExecutable();
    return path;
  }

  /** An example spec with its load balancer on a free port instead of 8080. */
  private Path example(Harness h, String name) throws IOException {
    Path repo =
        Path.of(Harness.LIB).toAbsolutePath().normalize().getParent().getParent().getParent();
    String yaml = Files.readString(repo.resolve("examples").resolve(name));
    assertThat(yaml).contains("port: 8080");
    return h.writeSpec(name, yaml.replace("port: 8080", "port: 0"));
  }

  private void shot(String name) throws IOException {
    Files.createDirectories(SHOTS);
    Path png = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath();
    Files.copy(png, SHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
  }

  /** The browser's console has no error (a script failing, a resource refused by the CSP). */
  private void noConsoleErrors(String page) {
    List<LogEntry> errors =
        browser.manage().logs().get(LogType.BROWSER).getAll().stream()
            .filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue())
            .toList();
    assertThat(errors).as("console errors on %s", page).isEmpty();
  }

  /** The page has no WCAG 2 A or AA violation that axe-core finds (contrast, labels, names…). */
  private void accessible(String page) {
    com.deque.html.axecore.results.Results r =
        new com.deque.html.axecore.selenium.AxeBuilder()
            .withTags(List.of("wcag2a", "wcag2aa"))
            .analyze(browser);
    assertThat(r.getViolations())
        .as(
            "WCAG 2 A/AA violations on %s: %s",
            page,
            r.getViolations().stream()
                .map(
                    v ->
                        v.getId()
                            + " ("
                            + v.getHelp()
                            + ") at "
                            + v.getNodes().stream()
                                .map(n -> String.valueOf(n.getTarget()))
                                .toList())
                .toList())
        .isEmpty();
  }

  /**
   * A wait on the page, which swaps its content in place on events: an element found a moment ago
   * may be gone (stale), so it is looked up again.
   */
  private WebDriverWait waitUpTo(int seconds) {
    WebDriverWait w =
        new WebDriverWait(browser, Duration.ofSeconds(seconds), Duration.ofMillis(200));
    w.ignoring(org.openqa.selenium.StaleElementReferenceException.class);
    return w;
  }

  /** An element's text, looked up again when the page swapped it away meanwhile. */
  private String text(String css) {
    return waitUpTo(5).until(d -> d.findElement(By.cssSelector(css)).getText());
  }

  private void confirmAlert() {
    waitUpTo(5).until(ExpectedConditions.alertIsPresent()).accept();
  }

  @Test
  @Timeout(300)
  void anOperatorSeesAndSteersTheShop_inARealBrowser() throws Exception {
    long t00 = System.nanoTime();
    try (Harness h = new Harness(tmp)) {
      h.up(example(h, "shop.yaml"));
      h.awaitReady("shop", 3, Duration.ofSeconds(60));
      String token = h.ok("token", "create", "ops", "--role", "operator").out().trim();
      String base = h.client().base();
      browser = browser();

      System.out.printf(
          "dashboard step at %d ms: Log in: a wrong token is refused with%n",
          (System.nanoTime() - t00) / 1_000_000);
      // Log in: a wrong token is refused with a message, the right one opens the overview.
      browser.get(base + "/");
      assertThat(browser.getCurrentUrl()).contains("/login");
      accessible("login");
      browser.findElement(By.name("token")).sendKeys("not-a-token");
      browser.findElement(By.cssSelector("form button[type=submit]")).click();
      assertThat(text("#login-error")).contains("wrong API token");
      browser.findElement(By.name("token")).sendKeys(token);
      browser.findElement(By.cssSelector("form button[type=submit]")).click();
      waitUpTo(10).until(ExpectedConditions.presenceOfElementLocated(By.id("services")));
      assertThat(text("tr[data-service=shop] .ready")).isEqualTo("3/3");
      assertThat(text(".who")).contains("ops").contains("operator");
      assertThat(text("#daemon")).contains("serving");
      waitUpTo(10).until(ExpectedConditions.textToBe(By.id("live"), "live"));
      shot("overview");
      noConsoleErrors("overview");
      accessible("overview");

      System.out.printf(
          "dashboard step at %d ms: Kill an instance: the service page, w%n",
          (System.nanoTime() - t00) / 1_000_000);
      // Kill an instance: the service page, without a reload, shows it replaced.
      browser.findElement(By.linkText("shop")).click();
      waitUpTo(10).until(ExpectedConditions.presenceOfElementLocated(By.id("instances")));
      assertThat(browser.findElements(By.cssSelector("#instances tbody tr"))).hasSize(3);
      ((JavascriptExecutor) browser).executeScript("window.notReloaded = true;");
      waitUpTo(10).until(ExpectedConditions.textToBe(By.id("live"), "live"));
      long victim = h.service("shop").instances().get(0).pid();
      Harness.signal(victim, "KILL");
      waitUpTo(30)
          .withMessage(
              () ->
                  "the page shows pids "
                      + browser.findElements(By.cssSelector("#instances tbody tr")).stream()
                          .map(r -> r.getAttribute("data-pid"))
                          .toList()
                      + ", ready "
                      + browser.findElement(By.id("ready")).getText()
                      + ", stream "
                      + browser.findElement(By.id("live")).getText()
                      + "; the daemon says "
                      + h.service("shop").instances()
                      + " (killed "
                      + victim
                      + ")")
          .until(
              d -> {
                List<WebElement> rows = d.findElements(By.cssSelector("#instances tbody tr"));
                return rows.size() == 3
                    && rows.stream().noneMatch(r -> r.getAttribute("data-pid").equals("" + victim))
                    && d.findElement(By.id("ready")).getText().equals("3/3");
              });
      assertThat(((JavascriptExecutor) browser).executeScript("return window.notReloaded"))
          .as("the page followed the event stream, it was not reloaded")
          .isEqualTo(true);
      System.out.printf(
          "dashboard step at %d ms: The log tail follows the instances' o%n",
          (System.nanoTime() - t00) / 1_000_000);
      // The log tail follows the instances' output.
      waitUpTo(15)
          .until(
              d -> {
                String logs = d.findElement(By.id("logs")).getText();
                return !logs.isBlank() && !logs.startsWith("Log lines appear here");
              });
      shot("service");
      noConsoleErrors("service");
      accessible("service");

      System.out.printf(
          "dashboard step at %d ms: The bad canary example, under load: t%n",
          (System.nanoTime() - t00) / 1_000_000);
      // The bad canary example, under load: the rollout page shows it rolled back, and why.
      int proxy = h.status().proxy().port();
      System.out.printf(
          "dashboard step at %d ms: Traffic for the bad canary's analysis%n",
          (System.nanoTime() - t00) / 1_000_000);
      // Traffic for the bad canary's analysis (it is rolled back within seconds of getting 10%).
      CompletableFuture<LoadResult> load = load(proxy, Duration.ofSeconds(35));
      Thread.sleep(1000);
      h.ok("apply", "-f", example(h, "shop-v2-bad.yaml").toString());
      browser.get(base + "/rollouts/shop");
      assertThat(text("#phase")).isIn("Progressing", "Paused", "RolledBack");
      waitUpTo(90).until(ExpectedConditions.textToBe(By.id("phase"), "RolledBack"));
      assertThat(text("#reason")).contains("error rate higher");
      assertThat(text("#verdicts")).contains("fail");
      assertThat(browser.findElements(By.id("promote"))).as("nothing to promote").isEmpty();
      shot("rollout-rolled-back");
      noConsoleErrors("rollout");
      accessible("rollout");

      System.out.printf(
          "dashboard step at %d ms: The good example, promoted with the b%n",
          (System.nanoTime() - t00) / 1_000_000);
      // The good example, promoted with the button (the browser asks first).
      h.awaitReady("shop", 3, Duration.ofSeconds(60));
      h.ok("apply", "-f", example(h, "shop-v2.yaml").toString());
      browser.get(base + "/rollouts/shop");
      waitUpTo(30).until(ExpectedConditions.elementToBeClickable(By.id("promote")));
      assertThat(text("#steps")).contains("1. weight 10%").contains("2. analysis 20s");
      assertThat(browser.findElements(By.cssSelector("#steps li[aria-current=step]")))
          .as("the current step is highlighted")
          .hasSize(1);
      // the page follows the rollout's events: the button is found again if they redrew it
      waitUpTo(10)
          .until(
              d -> {
                d.findElement(By.id("promote")).click();
                return true;
              });
      confirmAlert();
      waitUpTo(60).until(ExpectedConditions.textToBe(By.id("phase"), "Promoted"));
      assertThat(browser.findElements(By.cssSelector("#steps li[data-state=done]"))).hasSize(4);
      assertThat(text(".flash")).contains("promote");
      shot("rollout-promoted");
      load.get();
      List<Wire.Event> events = h.client().events(-1, 2000);
      assertThat(events)
          .as("the button's change is recorded with the token that made it")
          .anySatisfy(
              e -> {
                assertThat(e.type()).isEqualTo("ApiCall");
                assertThat(e.message()).isEqualTo("POST /api/v1/rollouts/shop/promote by ops");
              });

      System.out.printf(
          "dashboard step at %d ms: A query, its chart and its table.%n",
          (System.nanoTime() - t00) / 1_000_000);
      // A query, its chart and its table.
      browser.get(base + "/explore");
      assertThat(
              browser.findElements(
                  By.cssSelector("#metric-names option[value=pilothouse_proxy_requests_total]")))
          .as("metric names are suggested")
          .hasSize(1);
      WebElement query = browser.findElement(By.id("query"));
      query.sendKeys("pilothouse_proxy_requests_total{");
      waitUpTo(10)
          .until(
              d ->
                  !d.findElements(
                          By.cssSelector(
                              "#metric-names option[value='pilothouse_proxy_requests_total{service=\"']"))
                      .isEmpty());
      query.clear();
      query.sendKeys("sum by (service) (rate(pilothouse_proxy_requests_total[1m]))");
      browser.findElement(By.cssSelector("form.query button")).click();
      waitUpTo(10).until(ExpectedConditions.presenceOfElementLocated(By.id("results")));
      assertThat(text("#results")).contains("service=\"shop\"");
      waitUpTo(15)
          .until(
              d ->
                  d.findElements(By.cssSelector("#chart-explore canvas")).size() == 1
                      && "1"
                          .equals(
                              d.findElement(By.id("chart-explore")).getAttribute("data-drawn")));
      shot("explore");
      noConsoleErrors("explore");
      accessible("explore");

      System.out.printf(
          "dashboard step at %d ms: A silence: created from the form, the%n",
          (System.nanoTime() - t00) / 1_000_000);
      // A silence: created from the form, then expired with its button.
      browser.get(base + "/alerts");
      WebElement matchers = browser.findElement(By.id("matchers"));
      matchers.clear();
      matchers.sendKeys("alertname=\"DashboardTest\", service=\"shop\"");
      browser.findElement(By.id("comment")).sendKeys("from the browser test");
      browser.findElement(By.id("create-silence")).click();
      waitUpTo(10).until(ExpectedConditions.presenceOfElementLocated(By.cssSelector(".flash")));
      assertThat(text(".flash")).startsWith("Silence ").endsWith(" created.");
      // the page follows the daemon's events: rows are found again when a refresh redrew them
      assertThat(text("#silences tr[data-state=active]"))
          .contains("alertname=\"DashboardTest\"")
          .contains("ops");
      String id =
          waitUpTo(5)
              .until(
                  d ->
                      d.findElement(By.cssSelector("#silences tr[data-state=active]"))
                          .getAttribute("data-silence"));
      shot("alerts");
      waitUpTo(10)
          .until(
              d -> {
                d.findElement(
                        By.cssSelector("#silences tr[data-silence='" + id + "'] button.expire"))
                    .click();
                return true;
              });
      confirmAlert();
      waitUpTo(10)
          .until(
              d ->
                  d.findElement(By.cssSelector("#silences tr[data-silence='" + id + "']"))
                      .getAttribute("data-state")
                      .equals("expired"));
      noConsoleErrors("alerts");
      accessible("alerts");

      System.out.printf(
          "dashboard step at %d ms: Events and DORA pages draw, with the %n",
          (System.nanoTime() - t00) / 1_000_000);
      // Events and DORA pages draw, with the chain verified.
      browser.get(base + "/events?type=ApiCall");
      assertThat(text("#chain")).startsWith("Hash chain verified");
      assertThat(text("table.events")).contains("POST /api/v1/rollouts/shop/promote by ops");
      shot("events");
      accessible("events");
      browser.get(base + "/dora");
      assertThat(text("#dora")).contains("deployments");
      shot("dora");
      accessible("dora");
      noConsoleErrors("events and dora");

      System.out.printf(
          "dashboard step at %d ms: Each capability's page draws (and say%n",
          (System.nanoTime() - t00) / 1_000_000);
      // Each capability's page draws (and says what it lacks when nothing is set up).
      for (String page :
          List.of("incidents", "autoscaling", "backups", "chaos", "cost", "security")) {
        long p0 = System.nanoTime();
        browser.get(base + "/" + page);
        // Each page loads at once: a stall here was six connections held by pages left behind.
        assertThat((System.nanoTime() - p0) / 1_000_000).as(page + " loads").isLessThan(10_000);
        assertThat(browser.findElement(By.tagName("h1")).getText()).isNotBlank();
        assertThat(
                browser
                    .findElement(By.cssSelector("nav a[aria-current=page]"))
                    .getAttribute("href"))
            .endsWith("/" + page);
        shot(page);
        noConsoleErrors(page);
        accessible(page);
      }
      assertThat(text("#tokens-refused"))
          .as("an operator's token may not list tokens")
          .contains("admin");

      System.out.printf(
          "dashboard step at %d ms: Logging out ends the session: the ove%n",
          (System.nanoTime() - t00) / 1_000_000);
      // Logging out ends the session: the overview asks for a login again.
      browser.get(base + "/");
      browser.findElement(By.cssSelector(".who button")).click();
      waitUpTo(10).until(ExpectedConditions.urlContains("/login"));
      browser.get(base + "/");
      assertThat(browser.getCurrentUrl()).contains("/login");
    }
  }

  @Test
  @Timeout(120)
  void withoutJavaScript_pagesRead_buttonsAskOnAPage_andAViewerCannotChangeAnything()
      throws Exception {
    try (Harness h = new Harness(tmp)) {
      h.up(example(h, "shop.yaml"));
      h.awaitReady("shop", 3, Duration.ofSeconds(60));
      String viewer = h.ok("token", "create", "eyes", "--role", "viewer").out().trim();
      String operator = h.ok("token", "create", "hands", "--role", "operator").out().trim();
      String base = h.client().base();
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

      // A login without a browser: the cookie is HttpOnly, SameSite=Strict.
      HttpResponse<String> login = post(http, base + "/login", null, Map.of("token", viewer));
      assertThat(login.statusCode()).isEqualTo(303);
      String setCookie = login.headers().firstValue("Set-Cookie").orElseThrow();
      assertThat(setCookie).contains("HttpOnly").contains("SameSite=Strict").contains("Max-Age=");
      String cookie = setCookie.split(";", 2)[0];

      // The overview reads as plain HTML, with a policy that allows no inline script.
      HttpResponse<String> overview = get(http, base + "/", cookie);
      assertThat(overview.statusCode()).isEqualTo(200);
      assertThat(overview.body()).contains("<td class=\"ready\"><span class=\"ok\">3/3</span>");
      assertThat(overview.headers().firstValue("Content-Security-Policy").orElseThrow())
          .contains("script-src 'self'");
      // A viewer sees no buttons, and a forged change is refused by the API itself.
      HttpResponse<String> service = get(http, base + "/services/shop", cookie);
      assertThat(service.body()).contains("id=\"instances\"").doesNotContain("/restart\"");
      String csrf = csrf(service.body());
      HttpResponse<String> scale =
          post(http, base + "/services/shop/scale", cookie, Map.of("csrf", csrf, "replicas", "1"));
      assertThat(scale.statusCode()).isEqualTo(303);
      assertThat(get(http, base + "/services/shop", cookie).body()).contains("Refused: ");
      assertThat(h.service("shop").desiredReplicas()).isEqualTo(3);

      // An operator's button, without a script to ask first, asks on a page of its own.
      String ops =
          post(http, base + "/login", null, Map.of("token", operator))
              .headers()
              .firstValue("Set-Cookie")
              .orElseThrow()
              .split(";", 2)[0];
      String opsCsrf = csrf(get(http, base + "/services/shop", ops).body());
      HttpResponse<String> ask =
          post(http, base + "/services/shop/restart", ops, Map.of("csrf", opsCsrf));
      assertThat(ask.statusCode()).isEqualTo(200);
      assertThat(ask.body()).contains("Restart every instance of shop").contains("confirmed");
      // A form from another site (it cannot know the session's CSRF token) is refused.
      HttpResponse<String> forged =
          post(http, base + "/services/shop/scale", ops, Map.of("replicas", "1"));
      assertThat(forged.statusCode()).isEqualTo(403);
      assertThat(h.service("shop").desiredReplicas()).isEqualTo(3);
      // Scaling with the token and the form's CSRF field works, and is the API's change.
      HttpResponse<String> scaled =
          post(http, base + "/services/shop/scale", ops, Map.of("csrf", opsCsrf, "replicas", "2"));
      assertThat(scaled.statusCode()).isEqualTo(303);
      await().atMost(Duration.ofSeconds(30)).until(() -> h.service("shop").readyReplicas() == 2);
      assertThat(h.client().events(-1, 500))
          .anySatisfy(
              e -> assertThat(e.message()).isEqualTo("POST /api/v1/services/shop/scale by hands"));
      // Bad input names the field; a revoked token ends its sessions.
      assertThat(get(http, base + "/services/shop?range=1y", ops).body())
          .contains("unknown range '1y'");
      h.ok("token", "revoke", "hands");
      HttpResponse<String> after = get(http, base + "/", ops);
      assertThat(after.statusCode()).isEqualTo(303);
      assertThat(after.headers().firstValue("Location").orElseThrow()).contains("/login");
    }
  }

  private static String csrf(String html) {
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"").matcher(html);
    assertThat(m.find()).as("a CSRF field in the page").isTrue();
    return m.group(1);
  }

  private static HttpResponse<String> get(HttpClient http, String url, String cookie)
      throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(URI.create(url)).header("Cookie", cookie).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> post(
      HttpClient http, String url, String cookie, Map<String, String> form)
      throws IOException, InterruptedException {
    String body =
        String.join(
            "&",
            form.entrySet().stream()
                .map(
                    e ->
                        e.getKey()
                            + "="
                            + java.net.URLEncoder.encode(
                                e.getValue(), java.nio.charset.StandardCharsets.UTF_8))
                .toList());
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (cookie != null) {
      b.header("Cookie", cookie);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static CompletableFuture<LoadResult> load(int port, Duration d) {
    return Harness.load(port, 100, d);
  }
}
