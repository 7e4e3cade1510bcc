package dev.pilothouse.cost;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * The bills Pilothouse has read: one columnar file per provider, billing account and billing period
 * under {@code STATE_DIR/cost/slices/}. An ingest reads a batch of files (every part of an export),
 * writes each period it holds to a temporary file, and only when every row was taken (or {@code
 * skipInvalid} says to leave bad rows out) moves them in place: a period seen before with the same
 * rows stays as it was, one with other rows replaces the old (a restated bill).
 */
public final class Ledger {
  /** Most files in one ingest. */
  public static final int MAX_FILES = 1000;

  /** Most billing periods (× accounts × providers) in one ingest. */
  public static final int MAX_SLICES = 10_000;

  /** Row errors listed by an ingest (all are counted). */
  public static final int MAX_LISTED = 20;

  private final Path dir;
  private final Clock clock;
  private final Object lock = new Object();

  /** Bumped whenever a slice is written or removed: what callers key their caches on. */
  private final java.util.concurrent.atomic.AtomicLong version =
      new java.util.concurrent.atomic.AtomicLong();

  private volatile long lastChargeVersion = -1;
  private volatile long lastCharge = Long.MIN_VALUE;

  public Ledger(Path dir, Clock clock) throws IOException {
    this.dir = dir;
    this.clock = clock;
    Files.createDirectories(dir.resolve("slices"));
    Path tmp = Files.createDirectories(dir.resolve("tmp"));
    // A killed ingest leaves its temporary files: nothing refers to them.
    try (Stream<Path> s = Files.list(tmp)) {
      for (Path p : s.toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /**
   * How to ingest.
   *
   * @param currency the ledger's currency: rows in another are refused unless rates converts them
   * @param rates units of the ledger's currency per unit of another (EUR → 1.08)
   * @param skipInvalid store the valid rows of a file with invalid ones (else nothing is stored)
   */
  public record Options(String currency, Map<String, BigDecimal> rates, boolean skipInvalid) {
    public Options {
      rates = rates == null ? Map.of() : Map.copyOf(rates);
    }
  }

  /** What one file held. */
  public record FileResult(
      String file,
      String format,
      String kind,
      long rows,
      long refused,
      long converted,
      long wide,
      List<String> unusedColumns) {}

  /** What happened to one billing period. */
  public record SliceResult(
      String key, String status, long rows, String billedCost, String previousBilledCost) {}

  /** The outcome of an ingest. */
  public record Result(
      List<FileResult> files,
      List<SliceResult> slices,
      long rows,
      long refused,
      Map<String, Long> refusedBy,
      List<String> errors,
      String billedCost) {}

  public Result ingest(List<Path> files, Options o) throws BillException, IOException {
    if (files.isEmpty()) {
      throw new BillException("no files given", "name one or more FOCUS or CUR 2.0 exports");
    }
    if (files.size() > MAX_FILES) {
      throw new BillException(
          files.size() + " files in one ingest, more than " + MAX_FILES,
          "ingest the export in several batches, one billing period at a time");
    }
    synchronized (lock) {
      return ingestLocked(files, o);
    }
  }

  /** A slice being written. */
  private static final class Pending {
    final BillFile.Writer writer;
    final String provider;
    final String account;
    final long periodStart;
    final String currency;
    long rows;
    long h1;
    long h2;
    long wide;
    final Money.Sum billed = new Money.Sum();
    final Money.Sum effective = new Money.Sum();
    final Money.Sum list = new Money.Sum();
    final java.util.Set<String> sources = new java.util.LinkedHashSet<>();
    final java.util.Set<String> formats = new java.util.LinkedHashSet<>();
    final Map<String, String> rates = new java.util.TreeMap<>();

    Pending(BillFile.Writer w, String provider, String account, long periodStart, String currency) {
      this.writer = w;
      this.provider = provider;
      this.account = account;
      this.periodStart = periodStart;
      this.currency = currency;
    }
  }

  /**
   * How far the ingest under way is: the file (its index of the batch), its bytes read of its size,
   * and the rows read so far in the batch.
   */
  public record Progress(
      String file, int index, int files, long bytesRead, long bytes, long rows) {}

  private volatile Progress progress;
  private volatile RawRows reading;
  private volatile long rowsRead;

  /** The ingest under way, if one is. */
  public java.util.Optional<Progress> progress() {
    Progress p = progress;
    RawRows r = reading;
    if (p == null) {
      return java.util.Optional.empty();
    }
    long read = r == null ? 0 : Math.min(p.bytes(), r.bytesRead());
    return java.util.Optional.of(
        new Progress(p.file(), p.index(), p.files(), read, p.bytes(), rowsRead));
  }

  private Result ingestLocked(List<Path> files, Options o) throws BillException, IOException {
    try {
      return ingestTracked(files, o);
    } finally {
      progress = null;
      reading = null;
      rowsRead = 0;
    }
  }

  private Result ingestTracked(List<Path> files, Options o) throws BillException, IOException {
    Map<String, Pending> pending = new LinkedHashMap<>();
    List<FileResult> fileResults = new ArrayList<>();
    Map<String, Long> refusedBy = new TreeMap<>();
    List<String> errors = new ArrayList<>();
    long total = 0;
    long refused = 0;
    Money.Sum billed = new Money.Sum();
    try {
      for (Path file : files) {
        String name = file.getFileName().toString();
        long rows = 0;
        long bad = 0;
        long converted = 0;
        long wide = 0;
        if (!Files.isRegularFile(file)) {
          throw new BillException(file + ": no such file", "give the path of a bill export");
        }
        progress =
            new Progress(name, fileResults.size() + 1, files.size(), 0, Files.size(file), total);
        try (RawRows raw = RawRows.open(file)) {
          reading = raw;
          Mapping mapping;
          try {
            mapping = Mapping.of(raw.header());
          } catch (BillException e) {
            throw new BillException(name + ": " + e.getMessage(), e.hint());
          }
          String[] text = new String[Focus.TEXT.size()];
          long[] times = new long[Focus.TIMES.size()];
          long[] amounts = new long[Focus.AMOUNTS.size()];
          java.math.BigDecimal[] bigs = new java.math.BigDecimal[Focus.AMOUNTS.size()];
          while (true) {
            String[] row;
            try {
              String[] r = raw.next();
              row = r == null ? null : mapping.map(r);
            } catch (BillException e) {
              throw new BillException(name + ": " + e.getMessage(), e.hint());
            }
            if (row == null) {
              break;
            }
            rows++;
            if ((rows & 4095) == 0) {
              rowsRead = total + rows;
            }
            String problem;
            try {
              problem = parse(row, text, times, amounts, bigs, o);
            } catch (Money.Invalid | IllegalArgumentException e) {
              problem = e.getMessage();
            }
            if (problem != null) {
              bad++;
              String reason =
                  problem.substring(
                      0, problem.indexOf(':') < 0 ? problem.length() : problem.indexOf(':'));
              refusedBy.merge(reason, 1L, Long::sum);
              if (errors.size() < MAX_LISTED) {
                errors.add(name + ":" + raw.where() + ": " + problem);
              }
              continue;
            }
            if (!row[Focus.CURRENCY].equals(o.currency())) {
              converted++;
              text[Focus.CURRENCY] = o.currency();
            }
            int w = 0;
            for (long v : amounts) {
              w += v == Money.BIG ? 1 : 0;
            }
            wide += w;
            String key =
                text[Focus.PROVIDER] + "\u0000" + text[Focus.ACCOUNT] + "\u0000" + times[0];
            Pending p = pending.get(key);
            if (p == null) {
              if (pending.size() >= MAX_SLICES) {
                throw new BillException(
                    "more than " + MAX_SLICES + " billing periods in one ingest",
                    "ingest fewer periods at a time");
              }
              p =
                  new Pending(
                      new BillFile.Writer(
                          Files.createTempFile(dir.resolve("tmp"), "slice-", ".bill")),
                      text[Focus.PROVIDER],
                      text[Focus.ACCOUNT],
                      times[0],
                      o.currency());
              pending.put(key, p);
            }
            p.writer.add(text, times, amounts, bigs);
            p.rows++;
            p.wide += w;
            long h = rowHash(text, times, amounts, bigs);
            p.h1 += h;
            p.h2 += Long.rotateLeft(h * 0x9E3779B97F4A7C15L, 31) ^ h;
            add(p.billed, amounts, bigs, 0);
            add(p.effective, amounts, bigs, 1);
            add(p.list, amounts, bigs, 2);
            add(billed, amounts, bigs, 0);
            p.sources.add(name);
            if (!row[Focus.CURRENCY].equals(o.currency())) {
              p.rates.put(row[Focus.CURRENCY], o.rates().get(row[Focus.CURRENCY]).toPlainString());
            }
            p.formats.add(mapping.format() + " " + raw.kind());
          }
          fileResults.add(
              new FileResult(
                  name,
                  mapping.format(),
                  raw.kind(),
                  rows,
                  bad,
                  converted,
                  wide,
                  mapping.unused()));
        }
        total += rows;
        refused += bad;
      }
      if (refused > 0 && !o.skipInvalid()) {
        StringBuilder m =
            new StringBuilder(
                refused + " of " + total + " rows cannot be used, so nothing was stored:");
        for (String e : errors) {
          m.append("\n  ").append(e);
        }
        if (refused > errors.size()) {
          m.append("\n  … and ").append(refused - errors.size()).append(" more");
        }
        throw new BillException(
            m.toString(),
            "fix the rows, or add --skip-invalid to store the others and count these");
      }
      List<SliceResult> results = new ArrayList<>();
      for (Pending p : pending.values()) {
        results.add(commit(p));
      }
      return new Result(
          fileResults,
          results,
          total,
          refused,
          refusedBy,
          errors,
          billed.value().stripTrailingZeros().toPlainString());
    } finally {
      for (Pending p : pending.values()) {
        p.writer.close();
        Files.deleteIfExists(p.writer.path());
      }
    }
  }

  private static void add(Money.Sum s, long[] amounts, java.math.BigDecimal[] bigs, int i) {
    if (amounts[i] == Money.BIG) {
      s.add(bigs[i]);
    } else {
      s.add(amounts[i]);
    }
  }

  /** Parses a mapped row; returns why it cannot be used, or null. */
  private static String parse(
      String[] row,
      String[] text,
      long[] times,
      long[] amounts,
      java.math.BigDecimal[] bigs,
      Options o)
      throws Money.Invalid {
    for (String c : Focus.NOT_NULL) {
      if (row[Focus.index(c)] == null) {
        return c + ": is empty, and FOCUS requires a value";
      }
    }
    String category = row[Focus.CHARGE_CATEGORY];
    if (!Focus.CHARGE_CATEGORIES.contains(category)) {
      return "ChargeCategory: '"
          + Money.clip(category)
          + "' is not one of "
          + String.join(", ", Focus.CHARGE_CATEGORIES);
    }
    System.arraycopy(row, 0, text, 0, text.length);
    int t0 = Focus.TEXT.size();
    for (int i = 0; i < times.length; i++) {
      String v = row[t0 + i];
      if (v == null) {
        times[i] = Money.NULL;
        continue;
      }
      try {
        times[i] = Focus.time(v);
      } catch (IllegalArgumentException e) {
        return Focus.TIMES.get(i) + ": " + e.getMessage();
      }
    }
    if (times[1] <= times[0]) {
      return "BillingPeriodEnd: is not after BillingPeriodStart";
    }
    int a0 = t0 + times.length;
    BigDecimal rate = null;
    String currency = row[Focus.CURRENCY];
    if (!currency.equals(o.currency())) {
      rate = o.rates().get(currency);
      if (rate == null) {
        return "BillingCurrency: "
            + Money.clip(currency)
            + " where the ledger keeps "
            + o.currency()
            + " (convert with --rate "
            + Money.clip(currency)
            + "=RATE, or set cost.currency)";
      }
    }
    for (int i = 0; i < amounts.length; i++) {
      String v = row[a0 + i];
      bigs[i] = null;
      if (v == null) {
        amounts[i] = Money.NULL;
        continue;
      }
      try {
        long m = Money.parse(v);
        boolean money = i < 4 || i >= 6; // costs and unit prices; quantities are not converted
        BigDecimal exact = m == Money.BIG ? Money.decimal(v) : null;
        if (rate != null && money) {
          exact = (exact != null ? exact : Money.decimal(m)).multiply(rate);
          m = Money.of(exact);
        }
        amounts[i] = m;
        bigs[i] = m == Money.BIG ? exact : null;
      } catch (Money.Invalid e) {
        return Focus.AMOUNTS.get(i) + ": " + e.getMessage();
      }
    }
    return null;
  }

  private static long rowHash(
      String[] text, long[] times, long[] amounts, java.math.BigDecimal[] bigs) {
    long h = 0x243F6A8885A308D3L;
    for (String s : text) {
      h = (h ^ (s == null ? 0x5bd1e995 : s.hashCode())) * 0x100000001B3L;
    }
    for (long v : times) {
      h = (h ^ v) * 0x100000001B3L;
    }
    for (int i = 0; i < amounts.length; i++) {
      long v = amounts[i] == Money.BIG ? bigs[i].stripTrailingZeros().hashCode() : amounts[i];
      h = (h ^ v) * 0x100000001B3L;
    }
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    return h;
  }

  private SliceResult commit(Pending p) throws IOException {
    String period = Focus.month(p.periodStart);
    String hash = Long.toHexString(p.h1) + "-" + Long.toHexString(p.h2) + "-" + p.rows;
    Path target = dir.resolve("slices").resolve(fileName(p.provider, p.account, p.periodStart));
    String key = p.provider + "/" + p.account + "/" + period;
    String billed = p.billed.value().stripTrailingZeros().toPlainString();
    Slice old = Files.exists(target) ? read(target) : null;
    if (old != null && old.hash().equals(hash)) {
      return new SliceResult(key, "unchanged", p.rows, billed, old.billedCost());
    }
    Slice s =
        new Slice(
            p.provider,
            p.account,
            period,
            p.periodStart,
            p.rows,
            hash,
            billed,
            p.effective.value().stripTrailingZeros().toPlainString(),
            p.list.value().stripTrailingZeros().toPlainString(),
            p.currency,
            List.copyOf(p.sources),
            String.join(", ", p.formats),
            clock.instant().toString(),
            p.rates,
            p.wide);
    p.writer.finish(s);
    p.writer.close();
    Files.move(
        p.writer.path(),
        target,
        StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
    version.incrementAndGet();
    fsync(target.getParent());
    return new SliceResult(
        key,
        old == null ? "new" : "restated",
        p.rows,
        billed,
        old == null ? null : old.billedCost());
  }

  private static void fsync(Path directory) {
    try (FileChannel c = FileChannel.open(directory, StandardOpenOption.READ)) {
      c.force(true);
    } catch (IOException e) {
      // not every file system lets a directory be opened; the rename itself is atomic
    }
  }

  static String fileName(String provider, String account, long periodStart) {
    try {
      byte[] d =
          MessageDigest.getInstance("SHA-256")
              .digest((provider + "\u0000" + account).getBytes(StandardCharsets.UTF_8));
      String safe = provider.replaceAll("[^A-Za-z0-9]", "").toLowerCase(java.util.Locale.ROOT);
      return (safe.isEmpty() ? "p" : safe.substring(0, Math.min(16, safe.length())))
          + "-"
          + HexFormat.of().formatHex(d, 0, 8)
          + "-"
          + Focus.month(periodStart)
          + "-"
          + periodStart
          + ".bill";
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Slice read(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      return BillFile.footer(ch, file).slice();
    }
  }

  /** Changes whenever the ledger's content does (this process is its only writer). */
  public long version() {
    return version.get();
  }

  /**
   * The latest ChargePeriodEnd of any row ({@code Long.MIN_VALUE} when the ledger is empty): where
   * the bill's data ends. Read once per change of the ledger.
   */
  public long lastChargeEnd() throws IOException {
    long v = version.get();
    if (lastChargeVersion != v) {
      long[] end = {Long.MIN_VALUE};
      scan(
          x -> true,
          rows -> {
            for (long e : rows.longs(Focus.CHARGE_END)) {
              end[0] = Math.max(end[0], e);
            }
          });
      lastCharge = end[0];
      lastChargeVersion = v;
    }
    return lastCharge;
  }

  /** Every slice, oldest period first. */
  public List<Slice> slices() throws IOException {
    List<Slice> out = new ArrayList<>();
    for (Path p : files()) {
      out.add(read(p));
    }
    out.sort(java.util.Comparator.comparing(Slice::period).thenComparing(Slice::key));
    return out;
  }

  private List<Path> files() throws IOException {
    try (Stream<Path> s = Files.list(dir.resolve("slices"))) {
      return s.filter(p -> p.toString().endsWith(".bill")).sorted().toList();
    }
  }

  /** Visits every row group of the slices chosen. */
  public void scan(Predicate<Slice> which, Consumer<Rows> visitor) throws IOException {
    for (Path p : files()) {
      try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
        BillFile.Footer f = BillFile.footer(ch, p);
        if (!which.test(f.slice())) {
          continue;
        }
        String[][] dicts = new String[Focus.ALL.size()][];
        for (BillFile.Group g : f.groups()) {
          visitor.accept(new Rows(f.slice(), ch, f, g, dicts));
        }
      } catch (UncheckedIOException e) {
        throw e.getCause();
      }
    }
  }

  /** Removes every slice of a billing period (or all with null). */
  public int forget(String period) throws IOException {
    synchronized (lock) {
      int n = 0;
      for (Path p : files()) {
        if (period == null || read(p).period().equals(period)) {
          Files.delete(p);
          n++;
          version.incrementAndGet();
        }
      }
      return n;
    }
  }
}
