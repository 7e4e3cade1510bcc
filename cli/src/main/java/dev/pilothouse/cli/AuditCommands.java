package dev.pilothouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code pilothouse audit log verify|prove|export}: the provable audit log (docs/security.md). */
final class AuditCommands {
  private AuditCommands() {}

  @Command(
      name = "audit",
      description =
          "Audits: 'audit log' checks and exports the signed event log; 'audit host' checks this"
              + " host against CIS rules.",
      subcommands = {Log.class, HostAuditCommand.class})
  static final class Group extends GroupCommand {}

  @Command(
      name = "log",
      description =
          "The event log as a Merkle tree with signed checkpoints: verify it, prove an event is"
              + " in it, export it as JSON lines.",
      subcommands = {Verify.class, Prove.class, Export.class})
  static final class Log extends GroupCommand {}

  /** {@code pilothouse audit log verify [-o json]}: exit 1 naming what was tampered with. */
  @Command(
      name = "verify",
      description =
          "Check the hash chain and every signed checkpoint: finds edited, deleted, reordered"
              + " and truncated events; exit 1 when one is found.")
  static final class Verify implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      JsonNode v = common.client().auditVerify();
      PrintWriter out = spec.commandLine().getOut();
      if (output.json()) {
        out.println(Output.json(v));
      } else if (v.path("ok").asBoolean()) {
        JsonNode last = v.path("lastCheckpoint");
        out.println(
            "intact: "
                + v.path("events").asLong()
                + " events, "
                + v.path("checkpoints").asLong()
                + " signed checkpoints"
                + (last.isNull() || last.isMissingNode()
                    ? " (none yet: the first is signed within a minute)"
                    : "; the newest covers "
                        + last.path("size").asLong()
                        + " events, signed "
                        + last.path("at").asText()
                        + ", head "
                        + last.path("root").asText()));
      } else {
        PrintWriter err = spec.commandLine().getErr();
        for (JsonNode p : v.path("problems")) {
          err.println("problem: " + p.asText());
        }
        err.println("error: the audit log does not verify");
        err.println(
            "hint: see docs/runbooks/audit-chain-broken.md; keep the state directory as it is for"
                + " analysis");
      }
      return v.path("ok").asBoolean() ? ExitCodes.OK : ExitCodes.FAILURE;
    }
  }

  /** {@code pilothouse audit log prove SEQ [-o json]}. */
  @Command(
      name = "prove",
      description =
          "An inclusion proof of one event (RFC 6962 audit path) against the newest signed"
              + " checkpoint that covers it.")
  static final class Prove implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Parameters(index = "0", paramLabel = "SEQ", description = "The event's number.")
    long seq;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      JsonNode p = common.client().auditProof(seq);
      PrintWriter out = spec.commandLine().getOut();
      if (output.json()) {
        out.println(Output.json(p));
      } else {
        out.println(
            "event " + p.path("seq").asLong() + " (hash " + p.path("eventHash").asText() + ")");
        out.println("leaf hash: " + p.path("leafHash").asText());
        out.println(
            "tree: "
                + p.path("treeSize").asLong()
                + " events, head "
                + p.path("root").asText()
                + ", signed "
                + p.path("checkpointAt").asText());
        out.println("audit path:");
        for (JsonNode h : p.path("path")) {
          out.println("  " + h.asText());
        }
        out.println(p.path("verified").asBoolean() ? "verified" : "does NOT verify");
      }
      return p.path("verified").asBoolean() ? ExitCodes.OK : ExitCodes.FAILURE;
    }
  }

  /** {@code pilothouse audit log export [--after SEQ]}: JSON lines for a SIEM. */
  @Command(name = "export", description = "Write the events as JSON lines (for a SIEM).")
  static final class Export implements Callable<Integer> {
    @Mixin Common common;

    @Option(
        names = "--after",
        paramLabel = "SEQ",
        description = "Only events after this number (default: all).")
    long after;

    @Override
    public Integer call() {
      common.client().auditExport(after, System.out);
      return ExitCodes.OK;
    }
  }
}
