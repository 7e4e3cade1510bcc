package dev.pilothouse.core;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** Keeps core free of frameworks, JDBC and wall-clock reads (outside core.time). */
class ArchitectureTest {
  static final JavaClasses CORE =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("dev.pilothouse.core");

  @Test
  void coreUsesNoFrameworkOrJdbc() {
    noClasses()
        .that()
        .resideInAPackage("dev.pilothouse.core..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "java.sql..",
            "javax.sql..",
            "io.netty..",
            "org.eclipse.jetty..",
            "io.javalin..",
            "com.fasterxml..",
            "org.jdbi..",
            "org.flywaydb..",
            "picocli..")
        .check(CORE);
  }

  @Test
  void coreDependsOnNoOtherModuleOfOurs() {
    noClasses()
        .that()
        .resideInAPackage("dev.pilothouse.core..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "dev.pilothouse.store..",
            "dev.pilothouse.server..",
            "dev.pilothouse.spec..",
            "dev.pilothouse.client..",
            "dev.pilothouse.cli..")
        .check(CORE);
  }

  @Test
  void onlyCoreTimeReadsTheWallClock() {
    noClasses()
        .that()
        .resideInAPackage("dev.pilothouse.core..")
        .and()
        .resideOutsideOfPackage("dev.pilothouse.core.time..")
        .should()
        .callMethod(System.class, "currentTimeMillis")
        .orShould()
        .callMethod(System.class, "nanoTime")
        .orShould()
        .callMethod(java.time.Instant.class, "now")
        .orShould()
        .callMethod(java.time.Clock.class, "systemUTC")
        .orShould()
        .callMethod(java.time.Clock.class, "systemDefaultZone")
        .orShould()
        .callMethod(java.time.InstantSource.class, "system")
        .orShould()
        .callMethod(java.time.LocalDateTime.class, "now")
        .orShould()
        .callMethod(java.time.ZonedDateTime.class, "now")
        .check(CORE);
  }

  /**
   * Controllers meet in the store, never call back: deploy orchestration starts rollouts and drives
   * the instance controller; the rollout controller reaches instances only through its ports (it
   * reads their status records) and learns nothing of orchestration; the instance controller knows
   * neither.
   */
  @Test
  void controllersDoNotCallBack() {
    noClasses()
        .that()
        .resideInAPackage("dev.pilothouse.core.rollout..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("dev.pilothouse.core.deploy..")
        .orShould()
        .dependOnClassesThat()
        .haveFullyQualifiedName("dev.pilothouse.core.instance.InstanceController")
        .because("a rollout's outcome reaches orchestration through the stored rollouts")
        .check(CORE);
    noClasses()
        .that()
        .resideInAPackage("dev.pilothouse.core.instance..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("dev.pilothouse.core.deploy..", "dev.pilothouse.core.rollout..")
        .check(CORE);
  }
}
