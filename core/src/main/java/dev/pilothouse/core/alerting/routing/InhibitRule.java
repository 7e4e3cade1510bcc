package dev.pilothouse.core.alerting.routing;

import java.util.List;

/**
 * Alertmanager's inhibition: while an alert matching source fires, alerts matching target that have
 * the same values of every equal label are muted (an alert never inhibits itself).
 */
public record InhibitRule(
    List<LabelMatcher> source, List<LabelMatcher> target, List<String> equal) {
  public InhibitRule {
    source = List.copyOf(source);
    target = List.copyOf(target);
    equal = List.copyOf(equal);
  }
}
