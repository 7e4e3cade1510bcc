package dev.pilothouse.core.security;

import java.util.Locale;

/**
 * What an API token may do (docs/security.md#roles). Each role may do all that the one before may.
 */
public enum Role {
  /** Reads: status, events, logs, metrics and PromQL queries. */
  VIEWER,
  /** Plus day-to-day changes: deploys, scaling, restarts, rollouts, silences, flags, backups. */
  OPERATOR,
  /** Plus everything else: applying specs (which runs commands on the host), restores, tokens. */
  ADMIN;

  /** The role's name as users write it: viewer, operator, admin. */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * The role of that name.
   *
   * @throws IllegalArgumentException naming the roles there are
   */
  public static Role of(String id) {
    for (Role r : values()) {
      if (r.id().equals(id)) {
        return r;
      }
    }
    throw new IllegalArgumentException(
        "unknown role '" + id + "': use one of viewer, operator, admin");
  }

  public boolean atLeast(Role other) {
    return compareTo(other) >= 0;
  }
}
