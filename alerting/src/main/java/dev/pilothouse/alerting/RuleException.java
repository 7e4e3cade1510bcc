package dev.pilothouse.alerting;

/** A rule's evaluation failed; the message is its lastError, as Prometheus's API shows it. */
final class RuleException extends RuntimeException {
  RuleException(String message) {
    super(message);
  }
}
