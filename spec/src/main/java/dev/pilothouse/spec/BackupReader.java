package dev.pilothouse.spec;

import dev.pilothouse.core.spec.BackupSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The top-level {@code repositories:} map and each service's {@code backup:} and {@code recovery:}
 * sections. A repository names where its password is read, never the password itself.
 */
final class BackupReader extends SectionReader {
  static final List<String> REPOSITORY =
      List.of("path", "s3", "passwordFile", "passwordEnv", "keyFile", "replicas");
  static final List<String> S3 =
      List.of(
          "endpoint", "region", "bucket", "prefix", "accessKeyEnv", "secretKeyEnv", "pathStyle");
  static final List<String> BACKUP =
      List.of("paths", "postgres", "schedule", "keep", "hooks", "repository");
  static final List<String> POSTGRES =
      List.of("dataDir", "host", "port", "user", "database", "passwordEnv", "maxArchiveLag");
  static final List<String> KEEP = List.of("last", "daily", "weekly", "monthly");
  static final List<String> HOOKS = List.of("before", "after");
  static final List<String> RECOVERY = List.of("rto", "rpo", "drill");

  /** Paths per service. */
  static final int MAX_PATHS = 100;

  private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?");
  private static final Pattern ENV = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  BackupReader(SectionReader parent) {
    super(parent);
  }

  Map<String, BackupSpec.Repository> repositories(Fields top) {
    Map<String, BackupSpec.Repository> out = new LinkedHashMap<>();
    Optional<Node> n = top.get("repositories");
    if (n.isEmpty()) {
      return out;
    }
    if (!(n.get() instanceof Node.MapNode m)) {
      problems.at(
          n.get(),
          "repositories",
          "must be a map of repository names to repositories, but is " + n.get().kind(),
          "write 'repositories:' then '  local: {path: /var/backups/pilothouse, passwordFile:"
              + " …}'");
      return out;
    }
    for (Node.Entry e : m.entries().values()) {
      String path = "repositories." + e.key();
      if (!NAME.matcher(e.key()).matches()) {
        problems.add(
            e.line(),
            e.column(),
            path,
            "invalid repository name '" + e.key() + "'",
            "use lowercase letters, digits, '-' and '_'");
        continue;
      }
      if (!(e.value() instanceof Node.MapNode rm)) {
        problems.at(
            e.value(), path, "must be a map", "give 'path:' or 's3:', and a password source");
        continue;
      }
      repository(e.key(), new Fields(rm, path, problems, REPOSITORY))
          .ifPresent(r -> out.put(r.name(), r));
    }
    for (BackupSpec.Repository r : out.values()) {
      for (int i = 0; i < r.replicas().size(); i++) {
        String other = r.replicas().get(i);
        if (other.equals(r.name()) || !out.containsKey(other)) {
          Node at =
              ((Node.ListNode)
                      ((Node.MapNode) ((Node.MapNode) n.get()).entries().get(r.name()).value())
                          .entries()
                          .get("replicas")
                          .value())
                  .items()
                  .get(i);
          problems.at(
              at,
              "repositories." + r.name() + ".replicas[" + i + "]",
              other.equals(r.name())
                  ? "a repository cannot be its own replica"
                  : "no repository named '" + other + "'",
              "name another repository declared under 'repositories:'");
        }
      }
    }
    return out;
  }

  private Optional<BackupSpec.Repository> repository(String name, Fields f) {
    int before = problems.list().size();
    Optional<String> path = f.string("path");
    Optional<Fields> s3f = f.object("s3", S3);
    if (path.isPresent() == s3f.isPresent()) {
      problems.at(
          f.node(),
          f.path(),
          path.isPresent() ? "has both 'path' and 's3'" : "has neither 'path' nor 's3'",
          "give a directory ('path: /var/backups/pilothouse') or a bucket ('s3: {bucket: …}')");
    }
    String dir = path.map(p -> baseDir.resolve(p).normalize().toString()).orElse(null);
    BackupSpec.S3 s3 = s3f.map(this::s3).orElse(null);
    int sources =
        (f.has("passwordFile") ? 1 : 0)
            + (f.has("passwordEnv") ? 1 : 0)
            + (f.has("keyFile") ? 1 : 0);
    if (sources != 1) {
      problems.at(
          f.node(),
          f.path(),
          sources == 0 ? "says nothing of what opens it" : "has more than one password source",
          "give exactly one of passwordFile (a file holding the password, mode 0600), passwordEnv"
              + " (an environment variable of the daemon) or keyFile (a file of random bytes)");
    }
    String passwordFile =
        f.string("passwordFile").map(p -> baseDir.resolve(p).normalize().toString()).orElse(null);
    String keyFile =
        f.string("keyFile").map(p -> baseDir.resolve(p).normalize().toString()).orElse(null);
    String passwordEnv = f.string("passwordEnv").orElse(null);
    if (passwordEnv != null) {
      env(f, "passwordEnv", passwordEnv);
    }
    List<String> replicas = f.strings("replicas").orElse(List.of());
    if (problems.list().size() != before) {
      return Optional.empty();
    }
    return Optional.of(
        new BackupSpec.Repository(name, dir, s3, passwordFile, passwordEnv, keyFile, replicas));
  }

  private BackupSpec.S3 s3(Fields f) {
    String bucket = f.string("bucket").orElse("");
    if (f.require("bucket", "give the bucket's name").isPresent()
        && !bucket.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")) {
      problems.at(
          f.get("bucket").orElseThrow(),
          f.join("bucket"),
          "invalid bucket name '" + bucket + "'",
          "use 3-63 lowercase letters, digits, '.' and '-'");
    }
    String endpoint = f.string("endpoint").orElse("");
    if (!endpoint.isEmpty()
        && !endpoint.startsWith("http://")
        && !endpoint.startsWith("https://")) {
      problems.at(
          f.get("endpoint").orElseThrow(),
          f.join("endpoint"),
          "'" + endpoint + "' is not an http(s) URL",
          "write e.g. https://s3.eu-west-1.amazonaws.com or http://127.0.0.1:9000");
    }
    String access = f.string("accessKeyEnv").orElse("AWS_ACCESS_KEY_ID");
    String secret = f.string("secretKeyEnv").orElse("AWS_SECRET_ACCESS_KEY");
    env(f, "accessKeyEnv", access);
    env(f, "secretKeyEnv", secret);
    return new BackupSpec.S3(
        endpoint,
        f.string("region").orElse("us-east-1"),
        bucket,
        f.string("prefix").orElse(""),
        access,
        secret,
        f.bool("pathStyle").orElse(!endpoint.isEmpty()));
  }

  private void env(Fields f, String field, String name) {
    if (!ENV.matcher(name).matches()) {
      problems.at(
          f.get(field).orElse(f.node()),
          f.join(field),
          "'" + name + "' is not an environment variable's name",
          "give the name of a variable of the daemon's environment, e.g. BACKUP_PASSWORD");
    }
  }

  /** A service's backup plan, or empty when it declares none (or it is wrong). */
  Optional<BackupSpec.Plan> plan(
      String service, String workdir, Fields sf, Map<String, BackupSpec.Repository> repos) {
    Optional<Fields> bf = sf.object("backup", BACKUP);
    Optional<Fields> rf = sf.object("recovery", RECOVERY);
    if (bf.isEmpty()) {
      rf.ifPresent(
          r ->
              problems.at(
                  r.node(),
                  r.path(),
                  "recovery objectives without backups",
                  "add 'backup: {paths: [...]}' to this service, or remove 'recovery:'"));
      return Optional.empty();
    }
    Fields f = bf.get();
    int before = problems.list().size();
    List<String> paths = List.of();
    Path base = workdir == null || workdir.isBlank() ? baseDir : Path.of(workdir);
    BackupSpec.Postgres postgres =
        f.object("postgres", POSTGRES).map(p -> postgres(p, base)).orElse(null);
    if (postgres != null) {
      if (f.has("paths")) {
        problems.at(
            f.get("paths").orElseThrow(),
            f.join("paths"),
            "a postgres backup backs up its data directory, and only that",
            "remove 'paths', or back up other files in a service of their own");
      }
      paths = List.of(postgres.dataDir());
    } else if (f.require(
            "paths", "list the files and directories to back up, e.g. [data/], or give 'postgres:'")
        .isPresent()) {
      paths = f.strings("paths").orElse(List.of());
      if (paths.isEmpty() && f.get("paths").orElseThrow() instanceof Node.ListNode) {
        problems.at(
            f.get("paths").orElseThrow(), f.join("paths"), "is empty", "list at least one path");
      } else if (paths.size() > MAX_PATHS) {
        problems.at(
            f.get("paths").orElseThrow(),
            f.join("paths"),
            paths.size() + " paths, more than " + MAX_PATHS,
            "back up their common directory");
      }
    }
    paths = paths.stream().map(p -> base.resolve(p).normalize().toString()).toList();
    String schedule = f.string("schedule").orElse(null);
    if (schedule != null) {
      String problem = CronCheck.problem(schedule);
      if (problem != null) {
        problems.at(
            f.get("schedule").orElseThrow(),
            f.join("schedule"),
            "invalid cron expression '" + schedule + "': " + problem,
            "write five fields: minute hour day-of-month month day-of-week, e.g. '0 3 * * *'");
      }
    }
    BackupSpec.Keep keep =
        f.object("keep", KEEP)
            .map(
                k ->
                    new BackupSpec.Keep(
                        k.integer("last", 0, 100_000).orElse(0L).intValue(),
                        k.integer("daily", 0, 100_000).orElse(0L).intValue(),
                        k.integer("weekly", 0, 100_000).orElse(0L).intValue(),
                        k.integer("monthly", 0, 100_000).orElse(0L).intValue()))
            .orElse(BackupSpec.Keep.ALL);
    Optional<Fields> hooks = f.object("hooks", HOOKS);
    String beforeHook = hooks.flatMap(h -> h.string("before")).orElse(null);
    String afterHook = hooks.flatMap(h -> h.string("after")).orElse(null);
    String repository =
        f.string("repository").orElse(repos.size() == 1 ? repos.keySet().iterator().next() : null);
    if (repository == null) {
      problems.at(
          f.node(),
          f.path(),
          repos.isEmpty()
              ? "backups need a repository, and none is declared"
              : "says nothing of which repository",
          repos.isEmpty()
              ? "declare one at the top level: 'repositories: {local: {path: /var/backups/pilothouse,"
                  + " passwordFile: /etc/pilothouse/backup.pass}}'"
              : "add 'repository:' naming one of " + String.join(", ", repos.keySet()));
    } else if (!repos.containsKey(repository)) {
      problems.at(
          f.get("repository").orElse(f.node()),
          f.join("repository"),
          "no repository named '" + repository + "'",
          repos.isEmpty()
              ? "declare it under the top-level 'repositories:'"
              : "name one of " + String.join(", ", repos.keySet()));
    }
    Duration rto =
        rf.filter(r -> r.has("rto"))
            .map(r -> duration(r, "rto", Duration.ofMinutes(15), false))
            .orElse(null);
    Duration rpo =
        rf.filter(r -> r.has("rpo"))
            .map(r -> duration(r, "rpo", Duration.ofMinutes(5), false))
            .orElse(null);
    String drill = rf.flatMap(r -> r.string("drill")).orElse(null);
    if (drill != null) {
      String problem = CronCheck.problem(drill);
      if (problem != null) {
        Fields r = rf.orElseThrow();
        problems.at(
            r.get("drill").orElseThrow(),
            r.join("drill"),
            "invalid cron expression '" + drill + "': " + problem,
            "write five fields: minute hour day-of-month month day-of-week, e.g. '0 4 * * 0'");
      }
    }
    if (problems.list().size() != before) {
      return Optional.empty();
    }
    return Optional.of(
        new BackupSpec.Plan(
            service,
            paths,
            schedule,
            keep,
            beforeHook,
            afterHook,
            repository,
            rto,
            rpo,
            drill,
            postgres));
  }

  private BackupSpec.Postgres postgres(Fields p, Path base) {
    String dataDir =
        p.require("dataDir", "give the cluster's data directory, e.g. /var/lib/postgresql/15/main")
            .flatMap(n -> p.string("dataDir"))
            .map(d -> base.resolve(d).normalize().toString())
            .orElse("");
    String passwordEnv = p.string("passwordEnv").orElse(null);
    if (passwordEnv != null) {
      env(p, "passwordEnv", passwordEnv);
    }
    return new BackupSpec.Postgres(
        dataDir,
        p.string("host").orElse("127.0.0.1"),
        p.integer("port", 1, 65535).orElse(5432L).intValue(),
        p.string("user").orElse("postgres"),
        p.string("database").orElse("postgres"),
        passwordEnv,
        duration(p, "maxArchiveLag", BackupSpec.Postgres.DEFAULT_MAX_ARCHIVE_LAG, false));
  }
}
