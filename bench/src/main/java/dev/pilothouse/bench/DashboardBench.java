package dev.pilothouse.bench;

import java.io.File;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard's overview as a browser sees it (bench/dashboard.sh): Debian's Chromium, headless,
 * logs in and loads the overview RUNS times; prints the median first contentful paint, the median
 * time to the server's first byte, and the page's weight (HTML alone, and with every asset) on the
 * first, cold load.
 *
 * <p>Usage: DashboardBench BASE_URL TOKEN RUNS EXPECTED_SERVICES
 */
public final class DashboardBench {
  private DashboardBench() {}

  private static final String MEASURE =
      "const n = performance.getEntriesByType('navigation')[0];"
          + "const p = performance.getEntriesByName('first-contentful-paint')[0];"
          + "const r = performance.getEntriesByType('resource');"
          + "return {fcp: p ? p.startTime : -1, ttfb: n.responseStart - n.requestStart,"
          + " html: n.decodedBodySize, assets: r.reduce((a, x) => a + x.decodedBodySize, 0),"
          + " rows: document.querySelectorAll('#services tbody tr').length};";

  public static void main(String[] args) throws Exception {
    String base = args[0];
    String token = args[1];
    int runs = Integer.parseInt(args[2]);
    int services = Integer.parseInt(args[3]);
    ChromeOptions o = new ChromeOptions();
    o.setBinary("/usr/bin/chromium");
    o.addArguments(
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1100");
    ChromeDriverService svc =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(new File("/usr/bin/chromedriver"))
            .usingAnyFreePort()
            .build();
    WebDriver browser = new ChromeDriver(svc, o);
    try {
      browser.get(base + "/login");
      browser.findElement(By.name("token")).sendKeys(token);
      browser.findElement(By.cssSelector("form button[type=submit]")).click();
      new WebDriverWait(browser, Duration.ofSeconds(30))
          .until(ExpectedConditions.presenceOfElementLocated(By.id("services")));
      List<Double> fcp = new ArrayList<>();
      List<Double> ttfb = new ArrayList<>();
      long html = 0;
      long assets = 0;
      for (int i = 0; i < runs; i++) {
        browser.get(base + "/");
        new WebDriverWait(browser, Duration.ofSeconds(30))
            .until(ExpectedConditions.presenceOfElementLocated(By.id("services")));
        Map<?, ?> m = waitForPaint(browser);
        long rows = ((Number) m.get("rows")).longValue();
        if (rows != services) {
          throw new IllegalStateException(
              "the overview shows " + rows + " services, not " + services);
        }
        fcp.add(((Number) m.get("fcp")).doubleValue());
        ttfb.add(((Number) m.get("ttfb")).doubleValue());
        if (i == 0) {
          html = ((Number) m.get("html")).longValue();
          assets = ((Number) m.get("assets")).longValue();
        }
      }
      System.out.printf(
          "overview_services=%d fcp_ms=%.0f ttfb_ms=%.0f html_kb=%.1f page_kb=%.1f%n",
          services, median(fcp), median(ttfb), html / 1024.0, (html + assets) / 1024.0);
    } finally {
      browser.quit();
    }
  }

  private static Map<?, ?> waitForPaint(WebDriver browser) throws InterruptedException {
    for (int i = 0; i < 100; i++) {
      Map<?, ?> m = (Map<?, ?>) ((JavascriptExecutor) browser).executeScript(MEASURE);
      if (((Number) m.get("fcp")).doubleValue() >= 0) {
        return m;
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException("no first contentful paint within 5 s");
  }

  private static double median(List<Double> xs) {
    List<Double> s = new ArrayList<>(xs);
    s.sort(null);
    return s.get(s.size() / 2);
  }
}
