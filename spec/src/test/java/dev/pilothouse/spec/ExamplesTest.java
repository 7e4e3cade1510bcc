package dev.pilothouse.spec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every example spec shipped in examples/ is valid. */
class ExamplesTest {
  @Test
  void everyExampleParses() throws IOException {
    Path dir = Path.of("..", "examples");
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
    assertThat(files)
        .extracting(p -> p.getFileName().toString())
        .contains(
            "shop.yaml",
            "shop-v2.yaml",
            "shop-v2-bad.yaml",
            "shop-v2-slow.yaml",
            "shop-v3-bluegreen.yaml",
            "migration-v1.yaml",
            "migration.yaml",
            "migration-contract.yaml",
            "shop-ab.yaml");
    for (Path f : files) {
      ParsedSpec r =
          SpecParser.parse(
              f.getFileName().toString(),
              Files.readString(f),
              dir,
              Map.of(
                  "PILOTHOUSE_HOME",
                  "/opt/pilothouse",
                  "DEMO_DB",
                  "/srv/shop.db",
                  "FLAGS_URL",
                  "http://127.0.0.1:9460",
                  "FLAGS_TOKEN",
                  "t0k3n"),
              dev.pilothouse.tsdb.promql.Parser::problem);
      assertThat(r.errors()).as(f.toString()).isEmpty();
    }
  }
}
