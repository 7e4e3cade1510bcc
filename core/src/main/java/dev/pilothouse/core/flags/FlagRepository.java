package dev.pilothouse.core.flags;

import java.util.List;
import java.util.Optional;

/** Where flags and their history are kept (the store). */
public interface FlagRepository {
  /** Every flag, by key. */
  List<Flag> flags();

  Optional<Flag> flag(String key);

  /**
   * Creates or replaces a flag and records the change; specHash is the hash of the spec's
   * definition that set it, or null when set otherwise (it then keeps the previous one).
   */
  FlagChange saveFlag(Flag flag, String source, String specHash);

  /** Deletes a flag and records the change; empty when there was none. */
  Optional<FlagChange> deleteFlag(String key, String source);

  /** The hash of the spec definition that last set the flag, if a spec did. */
  Optional<String> specHash(String key);

  /** Changes, newest first: of one flag, or of all when key is null. */
  List<FlagChange> flagHistory(String key, int limit);

  /** Keeps a flag's gradual rollout (the newest per flag). */
  void saveFlagRollout(FlagRollout rollout);

  /** The newest gradual rollout of each flag. */
  List<FlagRollout> flagRollouts();
}
