package dev.pilothouse.server;

import dev.pilothouse.core.deploy.Preflight;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.security.Sbom;
import dev.pilothouse.security.Scanner;
import dev.pilothouse.security.Vulnerabilities;
import io.javalin.http.Context;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Maps vulnerability scanning to HTTP ({@code GET /api/v1/scan[?service=S][&format=cyclonedx]},
 * {@code POST /api/v1/scan/update {path}}), and is the deploy gate ({@code deploy.scan.blockOn}).
 */
final class ScanApi {
  private final Scanner scanner;
  private final Supplier<Spec> spec;

  ScanApi(Scanner scanner, Supplier<Spec> spec) {
    this.scanner = scanner;
    this.spec = spec;
  }

  record UpdateRequest(String path) {}

  void update(Context ctx) {
    UpdateRequest b = Api.body(ctx, UpdateRequest.class);
    if (b.path() == null || !Path.of(b.path()).isAbsolute()) {
      throw new ApiError(
          400,
          "path: give the absolute path of a directory or zip of OSV records on the daemon's host",
          "e.g. osv.dev's Maven/all.zip and Debian/all.zip, downloaded beforehand");
    }
    try {
      Vulnerabilities.Imported i = scanner.update(Path.of(b.path()));
      Api.send(
          ctx,
          200,
          Map.of(
              "imported", i.records(),
              "byEcosystem", i.byEcosystem(),
              "skipped", i.skipped(),
              "records", scanner.database().records()));
    } catch (IOException e) {
      throw new ApiError(400, e.getMessage(), "give a directory or a zip of OSV JSON records");
    }
  }

  void scan(Context ctx) throws IOException {
    String service = ctx.queryParam("service");
    Spec s = spec.get();
    Vulnerabilities db = scanner.database();
    List<Scanner.Target> targets = new ArrayList<>();
    if (service != null && !service.isEmpty()) {
      ServiceSpec one =
          s.service(service)
              .orElseThrow(
                  () ->
                      new ApiError(
                          404, "no service named '" + service + "'", "see 'pilothouse status'"));
      targets.add(scanner.service(one, db));
    } else {
      targets.add(scanner.host(db));
      for (ServiceSpec x : s.services()) {
        targets.add(scanner.service(x, db));
      }
    }
    if ("cyclonedx".equals(ctx.queryParam("format"))) {
      List<Sbom.Component> all = new ArrayList<>();
      List<Vulnerabilities.Finding> found = new ArrayList<>();
      targets.forEach(
          t -> {
            all.addAll(t.components());
            found.addAll(t.findings());
          });
      Api.send(ctx, 200, Sbom.cyclonedx(service == null ? "pilothouse" : service, all, found));
      return;
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("at", Instant.now().toString());
    out.put("database", Map.of("records", db.records()));
    List<Map<String, Object>> ts = new ArrayList<>();
    for (Scanner.Target t : targets) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("target", t.name());
      m.put("kind", t.kind());
      m.put("components", t.components().size());
      m.put("findings", t.findings().stream().map(ScanApi::finding).toList());
      ts.add(m);
    }
    out.put("targets", ts);
    Api.send(ctx, 200, out);
  }

  static Map<String, Object> finding(Vulnerabilities.Finding f) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", f.id());
    m.put("aliases", f.aliases());
    m.put("severity", f.severity());
    m.put("summary", f.summary());
    m.put("ecosystem", f.component().ecosystem());
    m.put("package", f.component().name());
    m.put("version", f.component().version());
    m.put("fixed", f.fixed());
    m.put("purl", f.component().purl());
    m.put("source", f.component().source());
    return m;
  }

  /** The pre-flight gate: the host's checks, then the scanner's verdict (deploy.scan.blockOn). */
  static Preflight gate(Preflight host, Scanner scanner) {
    return new Preflight() {
      @Override
      public List<Result> check(ServiceSpec next, Instant now, boolean ignoreFreeze) {
        return withScan(host.check(next, now, ignoreFreeze), next);
      }

      @Override
      public List<Result> check(
          dev.pilothouse.core.spec.Spec spec, ServiceSpec next, Instant now, boolean ignoreFreeze) {
        return withScan(host.check(spec, next, now, ignoreFreeze), next);
      }

      private List<Result> withScan(List<Result> host, ServiceSpec next) {
        List<Preflight.Result> out = new ArrayList<>(host);
        Scanner.Verdict v = scanner.check(next);
        if (v != null) {
          out.add(new Preflight.Result("scan", v.passed(), v.message()));
        }
        return out;
      }
    };
  }
}
