package dev.pilothouse.core.alerting.template;

/** A template that does not parse, or fails while it runs; the message says where and what. */
public final class TemplateException extends RuntimeException {
  TemplateException(String message) {
    super(message);
  }
}
