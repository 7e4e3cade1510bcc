package dev.pilothouse.core.event;

/** Delivers an event somewhere outside (a webhook, a chat, email). */
public interface Notifier {
  /** A short name for logs, such as "webhook http://…". */
  String name();

  /** Sends the event; throws when delivery failed (the caller retries). */
  void send(Event event) throws Exception;
}
