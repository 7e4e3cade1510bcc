package dev.pilothouse.core.spec;

import dev.pilothouse.core.alerting.RuleGroup;
import java.util.List;

/**
 * Alerting: the rule files a spec names and the groups read from them when it was applied (a
 * revision keeps the rules as they were, so undo restores them too).
 *
 * @param ruleFiles the globs as written, relative to the spec file
 * @param groups the rule groups of every matching file, in file then group order
 */
public record AlertingSpec(List<String> ruleFiles, List<RuleGroup> groups) {
  public AlertingSpec {
    ruleFiles = ruleFiles == null ? List.of() : List.copyOf(ruleFiles);
    groups = groups == null ? List.of() : List.copyOf(groups);
  }

  /** No rules. */
  public static AlertingSpec none() {
    return new AlertingSpec(List.of(), List.of());
  }
}
