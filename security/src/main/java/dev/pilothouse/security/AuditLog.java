package dev.pilothouse.security;

import dev.pilothouse.core.event.Event;
import dev.pilothouse.core.event.EventLog;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * The event log as a Merkle tree (RFC 6962: each event's chain hash is a leaf) with signed
 * checkpoints: Ed25519 over the tree's size and head, the key in STATE/audit/ (docs/security.md). A
 * checkpoint commits to every event before it, so editing, deleting, reordering or truncating
 * events is found by {@link #verify}, even by someone who rewrote the hash chain after an edit.
 */
public final class AuditLog {
  /** A signed tree head: the first size events hash to root (hex); at is an ISO instant. */
  public record Checkpoint(long size, String root, String at, String signature) {
    String signed() {
      return "pilothouse-audit-checkpoint\n" + size + "\n" + root + "\n" + at;
    }

    String line() {
      return size + " " + root + " " + at + " " + signature;
    }
  }

  /**
   * What verification found.
   *
   * @param problems empty when the log is intact; else each in words for an operator
   */
  public record Verification(
      boolean ok, long events, int checkpoints, Checkpoint last, List<String> problems) {}

  /** An inclusion proof of one event against the newest checkpoint covering it. */
  public record Proof(
      long seq,
      String eventHash,
      String leafHash,
      long treeSize,
      String root,
      List<String> path,
      String checkpointAt,
      boolean verified) {}

  private static final HexFormat HEX = HexFormat.of();
  private static final int PAGE = 10_000;

  private final EventLog events;
  private final Path dir;
  private final InstantSource clock;
  private final PrivateKey privateKey;
  private final PublicKey publicKey;
  // the tree's head over the events read so far, and the newest of them (for checkpoints)
  private Merkle.Frontier frontier;
  private long frontierSeq;

  /** Opens the audit directory, making its signing key (0600) the first time. */
  public AuditLog(EventLog events, Path dir, InstantSource clock) throws IOException {
    this.events = events;
    this.dir = dir;
    this.clock = clock;
    Files.createDirectories(dir);
    Path priv = dir.resolve("signing.key");
    Path pub = dir.resolve("signing.pub");
    try {
      KeyFactory kf = KeyFactory.getInstance("Ed25519");
      if (!Files.exists(priv)) {
        KeyPair kp = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        Path tmp = dir.resolve("signing.key.tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(
            tmp,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(
            tmp, Base64.getEncoder().encodeToString(kp.getPrivate().getEncoded()) + "\n");
        Files.writeString(
            pub, Base64.getEncoder().encodeToString(kp.getPublic().getEncoded()) + "\n");
        Files.move(tmp, priv, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      }
      this.privateKey =
          kf.generatePrivate(
              new PKCS8EncodedKeySpec(Base64.getDecoder().decode(Files.readString(priv).strip())));
      this.publicKey =
          kf.generatePublic(
              new X509EncodedKeySpec(Base64.getDecoder().decode(Files.readString(pub).strip())));
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new IOException(
          "the audit signing key in " + dir + " cannot be read (" + e.getMessage() + ")", e);
    }
  }

  /** The public key checkpoints verify with (X.509, base64), to keep apart from this machine. */
  public String publicKey() {
    return Base64.getEncoder().encodeToString(publicKey.getEncoded());
  }

  /**
   * Signs a checkpoint over every event so far, unless the newest one covers them already. Only the
   * events recorded since the last call are read: the tree's head is kept as a {@link
   * Merkle.Frontier} (every event is read once, by the first call after the daemon starts).
   */
  public synchronized Optional<Checkpoint> checkpoint() throws IOException {
    if (frontier == null) {
      frontier = new Merkle.Frontier();
    }
    frontierSeq = scan(frontierSeq, Long.MAX_VALUE, e -> frontier.append(leaf(e)));
    List<Checkpoint> done = checkpoints();
    if (!done.isEmpty() && done.getLast().size() >= frontier.size()) {
      return Optional.empty();
    }
    String root = HEX.formatHex(frontier.root());
    Checkpoint unsigned = new Checkpoint(frontier.size(), root, clock.instant().toString(), "");
    Checkpoint c = new Checkpoint(unsigned.size(), root, unsigned.at(), sign(unsigned.signed()));
    try (var ch =
        java.nio.channels.FileChannel.open(
            dir.resolve("checkpoints"),
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.APPEND)) {
      ch.write(java.nio.ByteBuffer.wrap((c.line() + "\n").getBytes(StandardCharsets.UTF_8)));
      ch.force(true);
    }
    return Optional.of(c);
  }

  /** Every checkpoint, oldest first (a line that cannot be read is left out; verify names it). */
  public List<Checkpoint> checkpoints() throws IOException {
    return parse(lines());
  }

  private List<String> lines() throws IOException {
    Path f = dir.resolve("checkpoints");
    return Files.exists(f)
        ? Files.readAllLines(f).stream().filter(l -> !l.isBlank()).toList()
        : List.of();
  }

  private static List<Checkpoint> parse(List<String> lines) {
    List<Checkpoint> out = new ArrayList<>();
    for (String line : lines) {
      String[] p = line.strip().split(" ");
      if (p.length == 4) {
        try {
          out.add(new Checkpoint(Long.parseLong(p[0]), p[1], p[2], p[3]));
        } catch (NumberFormatException e) {
          // left out: verify reports the file as edited
        }
      }
    }
    return out;
  }

  /**
   * Checks the hash chain, every checkpoint's signature, and every checkpoint's tree head, in one
   * pass over the events that keeps only the tree's frontier.
   */
  public Verification verify() throws IOException {
    List<String> problems = new ArrayList<>();
    EventLog.Verification chain = events.verify();
    chain
        .firstBreak()
        .ifPresent(b -> problems.add("event " + b.seq() + " breaks the hash chain: " + b.reason()));
    List<String> lines = lines();
    List<Checkpoint> cps = parse(lines);
    if (lines.size() != cps.size()) {
      problems.add(dir.resolve("checkpoints") + " holds lines that are not checkpoints: edited");
    }
    // the head at each checkpoint's size, computed as the events go by
    java.util.Set<Long> sizes = new java.util.HashSet<>();
    cps.forEach(c -> sizes.add(c.size()));
    java.util.Map<Long, String> heads = new java.util.HashMap<>();
    Merkle.Frontier f = new Merkle.Frontier();
    long count =
        scan(
            0,
            Long.MAX_VALUE,
            e -> {
              f.append(leaf(e));
              if (sizes.contains(f.size())) {
                heads.put(f.size(), HEX.formatHex(f.root()));
              }
            });
    if (sizes.contains(0L)) {
      heads.put(0L, HEX.formatHex(new Merkle.Frontier().root()));
    }
    long previous = 0;
    for (Checkpoint c : cps) {
      String where = "the checkpoint of " + c.at() + " (" + c.size() + " events)";
      if (!verifies(c)) {
        problems.add(
            where + " does not verify with audit/signing.pub: the checkpoints were edited");
        continue;
      }
      if (c.size() < previous) {
        problems.add(where + " covers fewer events than the one before it: reordered checkpoints");
      }
      previous = c.size();
      if (c.size() > count) {
        problems.add(
            "the log holds "
                + count
                + " events but "
                + where
                + " covers "
                + c.size()
                + ": events were deleted from its end (truncated)");
        continue;
      }
      if (!c.root().equals(heads.get(c.size()))) {
        problems.add(
            "events 1.."
                + c.size()
                + " no longer hash to the head signed in "
                + where
                + ": an event was edited, deleted or reordered");
      }
    }
    return new Verification(
        problems.isEmpty(), count, cps.size(), cps.isEmpty() ? null : cps.getLast(), problems);
  }

  /**
   * Proves that event seq is in the log as the newest checkpoint covering it signed it.
   *
   * @throws IllegalArgumentException when no checkpoint covers seq yet, or there is no such event
   */
  public Proof prove(long seq) throws IOException {
    List<Checkpoint> cps = checkpoints();
    Checkpoint c = cps.isEmpty() || cps.getLast().size() < seq ? null : cps.getLast();
    if (seq < 1) {
      throw new IllegalArgumentException("event numbers start at 1");
    }
    if (c == null) {
      throw new IllegalArgumentException(
          "no checkpoint covers event " + seq + " yet: checkpoints are signed every minute");
    }
    List<byte[]> leaves = new ArrayList<>();
    String[] eventHash = {""};
    scan(
        0,
        c.size(),
        e -> {
          leaves.add(leaf(e));
          if (leaves.size() == seq) {
            eventHash[0] = e.hash();
          }
        });
    if (leaves.size() < c.size()) {
      throw new IllegalArgumentException(
          "the log holds fewer events than its newest checkpoint: run 'pilothouse audit log"
              + " verify'");
    }
    int index = (int) (seq - 1);
    List<byte[]> path = Merkle.inclusionProof(leaves, index);
    boolean ok =
        verifies(c)
            && Merkle.verifyInclusion(
                leaves.get(index), index, c.size(), path, HEX.parseHex(c.root()));
    return new Proof(
        seq,
        eventHash[0],
        HEX.formatHex(leaves.get(index)),
        c.size(),
        c.root(),
        path.stream().map(HEX::formatHex).toList(),
        c.at(),
        ok);
  }

  /** Events after seq, oldest first, at most limit. */
  public List<Event> after(long seq, int limit) {
    return events.after(seq, limit);
  }

  /**
   * Hands the events after seq to sink, oldest first, at most limit of them, a page at a time.
   *
   * @return the last event's seq (seq when there was none)
   */
  private long scan(long seq, long limit, java.util.function.Consumer<Event> sink) {
    long after = seq;
    long seen = 0;
    while (seen < limit) {
      List<Event> page = events.after(after, (int) Math.min(PAGE, limit - seen));
      for (Event e : page) {
        sink.accept(e);
      }
      seen += page.size();
      if (page.isEmpty()) {
        break;
      }
      after = page.getLast().seq();
    }
    return after;
  }

  /** An event's leaf: its chain hash (which covers its content and the one before). */
  private static byte[] leaf(Event e) {
    return Merkle.leafHash(e.hash().getBytes(StandardCharsets.US_ASCII));
  }

  private String sign(String text) throws IOException {
    try {
      Signature s = Signature.getInstance("Ed25519");
      s.initSign(privateKey);
      s.update(text.getBytes(StandardCharsets.UTF_8));
      return Base64.getEncoder().encodeToString(s.sign());
    } catch (GeneralSecurityException e) {
      throw new IOException("signing a checkpoint: " + e.getMessage(), e);
    }
  }

  private boolean verifies(Checkpoint c) {
    try {
      Signature s = Signature.getInstance("Ed25519");
      s.initVerify(publicKey);
      s.update(c.signed().getBytes(StandardCharsets.UTF_8));
      return s.verify(Base64.getDecoder().decode(c.signature()));
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      return false;
    }
  }
}
