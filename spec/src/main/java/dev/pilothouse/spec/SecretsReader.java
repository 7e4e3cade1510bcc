package dev.pilothouse.spec;

import dev.pilothouse.core.security.SecretRecord;
import dev.pilothouse.core.spec.SecretsSpec;
import dev.pilothouse.core.spec.ServiceSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The {@code secrets:} section: for each named secret, how it is rotated ({@code rotate: {every,
 * postgres | apiToken | length}}). Values are never written here.
 */
final class SecretsReader extends SectionReader {
  static final List<String> SECRET = List.of("rotate");
  static final List<String> ROTATE = List.of("every", "length", "postgres", "apiToken");
  static final List<String> POSTGRES =
      List.of("host", "port", "database", "role", "adminUser", "adminSecret");
  static final List<String> API_TOKEN = List.of("role", "services");
  static final List<String> ROLES = List.of("viewer", "operator", "admin");

  /** Shortest rotation period: a shorter one is almost certainly a typo (1m for 1 month). */
  static final Duration MIN_EVERY = Duration.ofHours(1);

  /** At most this many secrets declare rotation. */
  static final int MAX_SECRETS = 1000;

  SecretsReader(SectionReader parent) {
    super(parent);
  }

  SecretsSpec secrets(Node node, List<ServiceSpec> services) {
    List<SecretsSpec.Policy> out = new ArrayList<>();
    if (!(node instanceof Node.MapNode m)) {
      problems.at(
          node,
          "secrets",
          "must be a map of secret names to their rotation, but is " + node.kind(),
          "write e.g. 'secrets: {db-password: {rotate: {every: 30d}}}'");
      return SecretsSpec.none();
    }
    if (m.entries().size() > MAX_SECRETS) {
      problems.at(node, "secrets", "more than " + MAX_SECRETS + " secrets", "declare fewer");
      return SecretsSpec.none();
    }
    for (Node.Entry e : m.entries().values()) {
      String at = "secrets." + e.key();
      if (!SecretRecord.NAME.matcher(e.key()).matches()) {
        problems.add(
            e.line(),
            e.column(),
            at,
            "invalid secret name '" + e.key() + "'",
            "use 1 to 63 lowercase letters, digits, '.', '_' and '-'");
        continue;
      }
      if (!(e.value() instanceof Node.MapNode sm)) {
        problems.at(e.value(), at, "must be a map", "write '{rotate: {every: 30d}}'");
        continue;
      }
      Fields sf = new Fields(sm, at, problems, SECRET);
      Optional<Fields> rf = sf.object("rotate", ROTATE);
      if (rf.isEmpty()) {
        sf.require("rotate", "write 'rotate: {every: 30d}' (or leave the secret out)");
        continue;
      }
      policy(e.key(), rf.get()).ifPresent(out::add);
    }
    return new SecretsSpec(out);
  }

  private Optional<SecretsSpec.Policy> policy(String name, Fields r) {
    int before = problems.list().size();
    Duration every = null;
    if (r.has("every")) {
      every = duration(r, "every", null, false);
      if (every != null && every.compareTo(MIN_EVERY) < 0) {
        problems.at(
            r.get("every").orElseThrow(),
            r.join("every"),
            "must be at least 1h",
            "write e.g. 30d, or leave it out to rotate only with 'pilothouse secrets rotate'");
      }
    }
    int length = r.integer("length", 16, 1024).orElse(32L).intValue();
    if (r.has("postgres") && r.has("apiToken")) {
      problems.at(
          r.node(),
          r.path(),
          "give at most one of 'postgres' and 'apiToken'",
          "a secret is one role's password or one token");
    }
    SecretsSpec.Postgres pg = r.object("postgres", POSTGRES).map(this::postgres).orElse(null);
    SecretsSpec.ApiTokenTarget token =
        r.object("apiToken", API_TOKEN).map(this::apiToken).orElse(null);
    if (pg != null && pg.adminSecret().equals(name)) {
      problems.at(
          r.get("postgres").orElseThrow(),
          r.join("postgres") + ".adminSecret",
          "a secret cannot rotate itself with itself",
          "name the secret that holds the admin user's password");
    }
    return problems.list().size() == before
        ? Optional.of(new SecretsSpec.Policy(name, every, length, pg, token))
        : Optional.empty();
  }

  private SecretsSpec.Postgres postgres(Fields p) {
    String role =
        p.require("role", "name the role whose password this secret is").isPresent()
            ? p.string("role").orElse("")
            : "";
    String admin = p.string("adminSecret").orElse("");
    if (!p.has("adminSecret")) {
      p.require(
          "adminSecret",
          "name the secret that holds the password of adminUser (who may ALTER ROLE)");
    } else if (!SecretRecord.NAME.matcher(admin).matches()) {
      problems.at(
          p.get("adminSecret").orElseThrow(),
          p.join("adminSecret"),
          "'" + admin + "' is not a secret name",
          "use 1 to 63 lowercase letters, digits, '.', '_' and '-'");
    }
    if (!role.isEmpty() && !role.matches("[A-Za-z_][A-Za-z0-9_$-]{0,62}")) {
      problems.at(
          p.get("role").orElseThrow(),
          p.join("role"),
          "'" + role + "' is not a PostgreSQL role name this rotation supports",
          "use letters, digits, '_', '$' and '-', at most 63");
    }
    return new SecretsSpec.Postgres(
        p.string("host").orElse("127.0.0.1"),
        p.integer("port", 1, 65535).orElse(5432L).intValue(),
        p.string("database").orElse("postgres"),
        role,
        p.string("adminUser").orElse("postgres"),
        admin);
  }

  private SecretsSpec.ApiTokenTarget apiToken(Fields t) {
    String role = t.string("role").orElse("viewer");
    if (!ROLES.contains(role)) {
      problems.at(
          t.get("role").orElseThrow(),
          t.join("role"),
          "unknown role '" + role + "'",
          "write viewer, operator or admin");
    }
    return new SecretsSpec.ApiTokenTarget(role, t.strings("services").orElse(List.of()));
  }
}
