package dev.pilothouse.core.time;

import java.time.InstantSource;

/** The one place allowed to read the wall clock; everything else has time injected. */
public final class Clocks {
  private Clocks() {}

  /** The system's UTC clock. */
  public static InstantSource system() {
    return InstantSource.system();
  }
}
