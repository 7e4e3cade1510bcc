package dev.pilothouse.core.spec;

import java.util.List;
import java.util.Optional;

/** Stores the history of applied specs. */
public interface Revisions {
  /** Stores spec as the newest revision. */
  Revision append(Spec spec, String source);

  /** The newest revision, if any was applied. */
  Optional<Revision> latest();

  /** Every revision, oldest first. */
  List<Revision> list();
}
