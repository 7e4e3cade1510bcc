package dev.pilothouse.e2e;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every allowed edge between our modules, over the assembled distribution's classes (this module
 * sees them all). A module may use only those named here. The CLI's edges beyond client and spec
 * are for work without a daemon: the PromQL parser it hands the spec's ExpressionCheck port, so
 * that {@code validate} checks the expressions in a spec; the anomaly detector for files; the
 * store, so that {@code store migrate} moves a stopped daemon's state into PostgreSQL.
 */
class ModuleEdgesTest {
  static final JavaClasses ALL =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("dev.pilothouse");

  static final List<String> MODULES =
      List.of(
          "core",
          "tsdb",
          "proxy",
          "store",
          "notify",
          "flags",
          "experiment",
          "alerting",
          "anomaly",
          "incident",
          "scaling",
          "backup",
          "security",
          "cost",
          "chaos",
          "cluster",
          "runtime",
          "client",
          "ui",
          "spec",
          "server",
          "cli",
          "demo");

  /** Which modules each module may depend on (besides itself). */
  static final Map<String, List<String>> ALLOWED =
      Map.ofEntries(
          Map.entry("core", List.of()),
          Map.entry("tsdb", List.of()),
          Map.entry("proxy", List.of()),
          Map.entry("client", List.of()),
          Map.entry("demo", List.of()),
          Map.entry("store", List.of("core")),
          Map.entry("notify", List.of("core")),
          Map.entry("flags", List.of("core")),
          Map.entry("experiment", List.of("core")),
          Map.entry("alerting", List.of("core")),
          Map.entry("anomaly", List.of("core")),
          Map.entry("incident", List.of("core")),
          Map.entry("scaling", List.of("core")),
          Map.entry("backup", List.of("core")),
          Map.entry("security", List.of("core")),
          Map.entry("cost", List.of("core")),
          Map.entry("chaos", List.of("core")),
          Map.entry("cluster", List.of("core")),
          Map.entry("runtime", List.of("core")), // runtime-kubernetes: dev.pilothouse.runtime..
          // the dashboard reads and changes through the API, as the CLI does
          Map.entry("ui", List.of("client")),
          Map.entry("spec", List.of("core")), // PromQL through the ExpressionCheck port
          Map.entry(
              "cli",
              List.of("client", "spec", "tsdb", "anomaly", "store")), // tsdb: PromQL for offline
          // validate; anomaly: offline scoring of files; store: 'store migrate' of a stopped daemon
          Map.entry(
              "server",
              List.of(
                  "core",
                  "spec",
                  "store",
                  "client",
                  "proxy",
                  "notify",
                  "flags",
                  "experiment",
                  "alerting",
                  "anomaly",
                  "incident",
                  "scaling",
                  "backup",
                  "security",
                  "cost",
                  "chaos",
                  "cluster",
                  "runtime",
                  "ui",
                  "tsdb")));

  @Test
  void everyModuleUsesOnlyTheModulesItMay() {
    for (String m : MODULES) {
      List<String> forbidden = new ArrayList<>();
      for (String other : MODULES) {
        if (!other.equals(m) && !ALLOWED.get(m).contains(other)) {
          forbidden.add("dev.pilothouse." + other + "..");
        }
      }
      noClasses()
          .that()
          .resideInAPackage("dev.pilothouse." + m + "..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(forbidden.toArray(String[]::new))
          .because(m + " may use only " + ALLOWED.get(m))
          .check(ALL);
    }
  }
}
