package dev.pilothouse.security;

import dev.pilothouse.core.event.EventSink;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.instance.SecretSource;
import dev.pilothouse.core.security.SecretRecord;
import dev.pilothouse.core.security.SecretRepository;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Named secrets, kept sealed in the store (see {@link SecretBox}): set, read, listed (never the
 * values), deleted. Each change is an event that names the secret and its version, never the value.
 * Instances get the current value when they start ({@link SecretSource}).
 */
public final class Secrets implements SecretSource {
  /** A request the secrets refuse: what is wrong and what to do. */
  public static final class SecretException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    public final boolean notFound;

    SecretException(String message, boolean notFound) {
      super(message);
      this.notFound = notFound;
    }
  }

  /** What a listing shows of a secret: everything but its value. */
  public record View(
      String name,
      int version,
      Instant createdAt,
      Instant updatedAt,
      Instant rotatedAt,
      String rotation,
      String lastFailure,
      Instant failedAt) {}

  /** A secret's current value. */
  public record Revealed(String name, int version, String value) {}

  /** Largest value, in bytes of UTF-8. */
  public static final int MAX_VALUE_BYTES = 64 * 1024;

  /** At most this many secrets. */
  public static final int MAX_SECRETS = 1000;

  private final SecretRepository repo;
  private final SecretBox box;
  private final EventSink events;
  private final InstantSource clock;

  public Secrets(SecretRepository repo, SecretBox box, EventSink events, InstantSource clock) {
    this.repo = repo;
    this.box = box;
    this.events = events;
    this.clock = clock;
  }

  /**
   * Sets a new current value (the one before becomes the previous version).
   *
   * @return the new version number
   * @throws SecretException when the name or value is not acceptable, or a rotation is under way
   */
  public synchronized int set(String name, String value) {
    checkName(name);
    if (value == null || value.isEmpty()) {
      throw new SecretException("value: empty; give the secret's value", false);
    }
    if (value.getBytes(StandardCharsets.UTF_8).length > MAX_VALUE_BYTES) {
      throw new SecretException(
          "value: larger than 64 KiB; keep large files out of secrets (store a key to them)",
          false);
    }
    Optional<SecretRecord> old = record(name);
    if (old.isEmpty() && repo.secrets().size() >= MAX_SECRETS) {
      throw new SecretException(
          "there are " + MAX_SECRETS + " secrets (the limit): delete unused ones first", false);
    }
    if (old.isPresent() && old.get().rotation() != null) {
      throw new SecretException(
          "secret '"
              + name
              + "' is being rotated (step "
              + old.get().rotation().step().name().toLowerCase(java.util.Locale.ROOT)
              + "); set it once the rotation finished ('pilothouse secrets list')",
          false);
    }
    Instant now = clock.instant();
    SecretRecord r = old.orElse(SecretRecord.empty(name, now));
    int version = r.latest() + 1;
    SecretRecord.Version v =
        new SecretRecord.Version(
            version, SecretRecord.Stage.CURRENT, box.seal(name, version, value), now);
    save(r.with(promote(r.versions(), v), null));
    emit("SecretSet", name, "secret '" + name + "' set (version " + version + ")", version);
    return version;
  }

  /** The versions after v becomes current: the current one before it previous, older ones gone. */
  static List<SecretRecord.Version> promote(
      List<SecretRecord.Version> versions, SecretRecord.Version v) {
    List<SecretRecord.Version> out = new ArrayList<>();
    out.add(v.as(SecretRecord.Stage.CURRENT));
    versions.stream()
        .filter(x -> x.stage() == SecretRecord.Stage.CURRENT && x.number() != v.number())
        .findFirst()
        .ifPresent(x -> out.add(x.as(SecretRecord.Stage.PREVIOUS)));
    return out;
  }

  /** The current value of a secret, or empty when it is not set. */
  public Optional<Revealed> reveal(String name) {
    return record(name)
        .flatMap(r -> r.stage(SecretRecord.Stage.CURRENT))
        .map(v -> new Revealed(name, v.number(), box.open(name, v.number(), v.sealed())));
  }

  @Override
  public Optional<String> value(String name) {
    return reveal(name).map(Revealed::value);
  }

  /** Every secret, without values, by name. */
  public List<View> list() {
    return repo.secrets().stream()
        .sorted(Comparator.comparing(SecretRecord::name))
        .map(Secrets::view)
        .toList();
  }

  static View view(SecretRecord r) {
    Optional<SecretRecord.Version> cur = r.stage(SecretRecord.Stage.CURRENT);
    return new View(
        r.name(),
        cur.map(SecretRecord.Version::number).orElse(0),
        r.createdAt(),
        cur.map(SecretRecord.Version::createdAt).orElse(r.createdAt()),
        r.rotatedAt(),
        r.rotation() == null ? null : r.rotation().step().name().toLowerCase(java.util.Locale.ROOT),
        r.lastFailure(),
        r.failedAt());
  }

  /**
   * Deletes a secret and every version of it.
   *
   * @throws SecretException when there is none of that name
   */
  public synchronized void delete(String name) {
    if (record(name).isEmpty()) {
      throw notFound(name);
    }
    repo.deleteSecret(name);
    emit("SecretDeleted", name, "secret '" + name + "' deleted", 0);
  }

  /** The stored record of a secret. */
  public Optional<SecretRecord> record(String name) {
    return repo.secrets().stream().filter(r -> r.name().equals(name)).findFirst();
  }

  /** The services whose env names the secret. */
  public static List<String> usedBy(dev.pilothouse.core.spec.Spec s, String name) {
    return s.services().stream()
        .filter(x -> x.secretEnv().values().stream().anyMatch(r -> r.secret().equals(name)))
        .map(dev.pilothouse.core.spec.ServiceSpec::name)
        .toList();
  }

  /** Every stored record by name, read once (the scheduler and the metrics look at all). */
  Map<String, SecretRecord> records() {
    Map<String, SecretRecord> out = new java.util.HashMap<>();
    repo.secrets().forEach(r -> out.put(r.name(), r));
    return out;
  }

  void save(SecretRecord r) {
    repo.saveSecret(r);
  }

  String open(SecretRecord r, SecretRecord.Version v) {
    return box.open(r.name(), v.number(), v.sealed());
  }

  String seal(String name, int version, String value) {
    return box.seal(name, version, value);
  }

  void emit(String type, String name, String message, int version) {
    events.emit(
        new NewEvent(
            clock.instant(),
            type,
            "",
            "",
            message,
            version > 0
                ? Map.of("secret", name, "version", Integer.toString(version))
                : Map.of("secret", name)));
  }

  static void checkName(String name) {
    if (name == null || !SecretRecord.NAME.matcher(name).matches()) {
      throw new SecretException(
          "name: '"
              + name
              + "' is not a secret name: use 1 to 63 lowercase letters, digits, '.', '_' and '-'",
          false);
    }
  }

  static SecretException notFound(String name) {
    return new SecretException("no secret named '" + name + "'", true);
  }
}
