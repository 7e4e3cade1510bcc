package dev.pilothouse.server;

import dev.pilothouse.core.alerting.RuleGroup;
import dev.pilothouse.core.spec.AlertingSpec;
import dev.pilothouse.spec.RuleFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The rule groups the daemon evaluates: Pilothouse's built-in rules about itself (unless the spec
 * turns them off) followed by the spec's rule files' and its SLOs'. The same list is handed out
 * until the spec changes.
 */
final class RuleGroups implements Supplier<List<RuleGroup>> {
  /** The built-in rules, read once from the alerting module's resource. */
  static final List<RuleGroup> BUILTIN = readBuiltin();

  private final Supplier<AlertingSpec> spec;
  private AlertingSpec last;
  private List<RuleGroup> groups = List.of();

  RuleGroups(Supplier<AlertingSpec> spec) {
    this.spec = spec;
  }

  @Override
  public synchronized List<RuleGroup> get() {
    AlertingSpec now = spec.get();
    if (now != last) {
      List<RuleGroup> all = new ArrayList<>();
      if (now.builtinRules()) {
        all.addAll(BUILTIN);
      }
      all.addAll(now.groups());
      all.addAll(dev.pilothouse.alerting.slo.SloRules.compile(now.slos()));
      groups = List.copyOf(all);
      last = now;
    }
    return groups;
  }

  private static List<RuleGroup> readBuiltin() {
    String name = "/dev/pilothouse/alerting/builtin-rules.yml";
    try (InputStream in = RuleGroups.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException(
            "the built-in rules " + name + " are missing from the build");
      }
      RuleFiles.Parsed p =
          RuleFiles.read(
              "builtin",
              new String(in.readAllBytes(), StandardCharsets.UTF_8),
              dev.pilothouse.tsdb.promql.Parser::problem,
              Duration.ofMinutes(1));
      if (!p.valid()) {
        throw new IllegalStateException("the built-in rules do not read: " + p.errors());
      }
      return p.groups();
    } catch (IOException e) {
      throw new UncheckedIOException("reading the built-in rules", e);
    }
  }
}
