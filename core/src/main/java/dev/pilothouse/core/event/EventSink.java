package dev.pilothouse.core.event;

/** Where controllers record what they did. */
@FunctionalInterface
public interface EventSink {
  /** Records the event; never throws for a well-formed event. */
  void emit(NewEvent event);
}
