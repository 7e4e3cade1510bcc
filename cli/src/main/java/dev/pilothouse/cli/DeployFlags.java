package dev.pilothouse.cli;

import picocli.CommandLine.Option;

/** What a deploy carries besides the spec: its commit (for DORA) and a freeze override. */
final class DeployFlags {
  @Option(
      names = "--commit",
      paramLabel = "SHA",
      description = "The commit being deployed (default: $PILOTHOUSE_COMMIT).")
  String commit = System.getenv().getOrDefault("PILOTHOUSE_COMMIT", "");

  @Option(
      names = "--commit-time",
      paramLabel = "TIME",
      description =
          "When that commit was made, ISO 8601 (e.g. from 'git log -1 --format=%%cI'); gives DORA's"
              + " lead time (default: $PILOTHOUSE_COMMIT_TIME).")
  String commitTime = System.getenv().getOrDefault("PILOTHOUSE_COMMIT_TIME", "");

  @Option(
      names = "--ignore-freeze",
      description = "Deploy even inside a freeze window (an emergency fix); recorded in events.")
  boolean ignoreFreeze;
}
