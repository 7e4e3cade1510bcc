package dev.pilothouse.core.security;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A secret as the store keeps it: its versions sealed (encrypted, never in clear), and the state of
 * a rotation under way, so that a daemon killed between two steps resumes at the next one.
 *
 * @param versions the pending (a rotation's new value), current and previous versions, newest first
 * @param rotation null when no rotation is under way
 * @param rotatedAt when a rotation last finished (null: never)
 * @param lastFailure why the last rotation failed (null: it did not, or a later one succeeded)
 * @param highest the highest version number given so far (numbers are never reused, also not those
 *     of failed rotations)
 */
public record SecretRecord(
    String name,
    List<Version> versions,
    Rotation rotation,
    Instant createdAt,
    Instant rotatedAt,
    String lastFailure,
    Instant failedAt,
    int highest) {

  /**
   * Names: 1 to 63 lowercase letters, digits, '.', '_' and '-', starting with a letter or digit.
   */
  public static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");

  public SecretRecord {
    requireNonNull(name, "name");
    requireNonNull(createdAt, "createdAt");
    versions = versions == null ? List.of() : List.copyOf(versions);
    for (Version v : versions) {
      highest = Math.max(highest, v.number());
    }
  }

  /** A secret without versions yet. */
  public static SecretRecord empty(String name, Instant at) {
    return new SecretRecord(name, List.of(), null, at, null, null, null, 0);
  }

  /** Where a version stands (AWS Secrets Manager's staging labels). */
  public enum Stage {
    PENDING,
    CURRENT,
    PREVIOUS
  }

  /**
   * One value of the secret.
   *
   * @param sealed the value encrypted with its own data key, that key wrapped by the master key
   */
  public record Version(int number, Stage stage, String sealed, Instant createdAt) {
    public Version {
      requireNonNull(stage, "stage");
      requireNonNull(sealed, "sealed");
      requireNonNull(createdAt, "createdAt");
    }

    public Version as(Stage s) {
      return new Version(number, s, sealed, createdAt);
    }
  }

  /** The steps of a rotation, each recorded once done. */
  public enum Step {
    /** the new value is stored as the pending version */
    CREATED,
    /** the new value is set where it is used (the role's password, the token) */
    SET,
    /** logging in with the new value works */
    TESTED,
    /** the new value is current; the services that use it are still to be restarted */
    PROMOTED
  }

  /** A rotation under way to version, with its last completed step. */
  public record Rotation(int version, Step step, Instant startedAt) {
    public Rotation {
      requireNonNull(step, "step");
      requireNonNull(startedAt, "startedAt");
    }
  }

  public Optional<Version> stage(Stage s) {
    return versions.stream().filter(v -> v.stage() == s).findFirst();
  }

  /** The highest version number so far (0 when none). */
  public int latest() {
    return highest;
  }

  public SecretRecord with(List<Version> v, Rotation r) {
    return new SecretRecord(name, v, r, createdAt, rotatedAt, lastFailure, failedAt, highest);
  }

  public SecretRecord rotated(List<Version> v, Rotation r, Instant at) {
    return new SecretRecord(name, v, r, createdAt, at, null, null, highest);
  }

  public SecretRecord failed(List<Version> v, String why, Instant at) {
    return new SecretRecord(name, v, null, createdAt, rotatedAt, why, at, highest);
  }
}
