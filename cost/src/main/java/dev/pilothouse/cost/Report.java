package dev.pilothouse.cost;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Totals of the ledger by one dimension over billing periods: BilledCost, EffectiveCost, ListCost
 * and ContractedCost side by side, the savings against list prices and those of commitments. The
 * totals are exact sums of what was ingested; {@link #cents} splits them to the cent so that the
 * lines add up to the total exactly.
 */
public final class Report {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Dimensions a report groups by (plus tag:KEY). */
  public static final List<String> DIMENSIONS =
      List.of(
          "service",
          "provider",
          "region",
          "account",
          "billing-account",
          "charge-category",
          "service-category",
          "pricing-category",
          "resource",
          "sku",
          "period",
          "day",
          "currency",
          "pilothouse-service");

  /** Most lines a report holds; the rest are summed into one "(other)" line. */
  public static final int MAX_LINES = 10_000;

  private Report() {}

  /** One line of a report, amounts exact. */
  public record Line(
      String key,
      BigDecimal billedCost,
      BigDecimal effectiveCost,
      BigDecimal listCost,
      BigDecimal contractedCost,
      BigDecimal savings,
      BigDecimal commitmentSavings,
      long rows) {}

  /** A report: its lines (largest effective cost first), the total, and what it reconciles to. */
  public record Result(
      String by,
      String from,
      String to,
      String currency,
      List<Line> lines,
      Line total,
      BigDecimal ledgerBilledCost,
      List<String> periods) {}

  /** An inclusive range of billing periods (months); null ends are open. */
  public record Periods(String from, String to) {
    public boolean contains(String period) {
      return (from == null || period.compareTo(from) >= 0)
          && (to == null || period.compareTo(to) <= 0);
    }

    /** "2024-09", "2024-07..2024-09", "2024-07..", "..2024-09" or null (all). */
    public static Periods parse(String s) throws BillException {
      if (s == null || s.isBlank()) {
        return new Periods(null, null);
      }
      String[] p = s.split("\\.\\.", -1);
      if (p.length > 2) {
        throw new BillException(
            "--period: '" + s + "' has more than one '..'", "write 2024-09 or 2024-07..2024-09");
      }
      String from = p[0].isEmpty() ? null : month(p[0], s);
      String to = p.length == 1 ? from : p[1].isEmpty() ? null : month(p[1], s);
      if (from != null && to != null && from.compareTo(to) > 0) {
        throw new BillException(
            "--period: " + from + " is after " + to, "write the earlier month first");
      }
      return new Periods(from, to);
    }

    private static String month(String m, String all) throws BillException {
      if (!m.matches("\\d{4}-(0[1-9]|1[0-2])")) {
        throw new BillException(
            "--period: '" + all + "' is not a month", "write a month as 2024-09");
      }
      return m;
    }
  }

  /** Gives each row of a row group the line it belongs to. */
  public interface Dimension {
    String[] labels(Rows rows);
  }

  /** The dimension a --by names, or an error naming the choices. */
  public static Dimension dimension(String by, Allocation allocation) throws BillException {
    if (by.startsWith("tag:")) {
      String key = by.substring(4);
      if (key.isEmpty()) {
        throw new BillException("--by tag: needs a tag key", "write e.g. --by tag:app");
      }
      return tag(key);
    }
    return switch (by) {
      case "service" -> column(Focus.SERVICE);
      case "provider" -> column(Focus.PROVIDER);
      case "region" -> column(Focus.REGION);
      case "account" -> rows -> account(rows);
      case "billing-account" -> column(Focus.ACCOUNT);
      case "charge-category" -> column(Focus.CHARGE_CATEGORY);
      case "service-category" -> column(Focus.SERVICE_CATEGORY);
      case "pricing-category" -> column(Focus.PRICING_CATEGORY);
      case "resource" -> column(Focus.RESOURCE);
      case "sku" -> column(Focus.SKU);
      case "currency" -> column(Focus.CURRENCY);
      case "period" -> rows -> filled(rows.size(), rows.slice().period());
      case "day" -> Report::day;
      case "pilothouse-service" -> allocation::labels;
      default ->
          throw new BillException(
              "--by: unknown dimension '" + by + "'",
              "one of " + String.join(", ", DIMENSIONS) + ", or tag:KEY");
    };
  }

  private static String[] filled(int n, String v) {
    String[] out = new String[n];
    java.util.Arrays.fill(out, v);
    return out;
  }

  static final String NONE = "(none)";

  private static Dimension column(int c) {
    return rows -> {
      int[] ids = rows.ids(c);
      String[] dict = rows.dictionary(c);
      String[] out = new String[ids.length];
      for (int i = 0; i < ids.length; i++) {
        String v = dict[ids[i]];
        out[i] = v == null ? NONE : v;
      }
      return out;
    };
  }

  private static String[] account(Rows rows) {
    int[] sub = rows.ids(Focus.SUB_ACCOUNT);
    String[] subs = rows.dictionary(Focus.SUB_ACCOUNT);
    String[] billing = rows.dictionary(Focus.ACCOUNT);
    int[] bill = rows.ids(Focus.ACCOUNT);
    String[] out = new String[sub.length];
    for (int i = 0; i < sub.length; i++) {
      out[i] = sub[i] != 0 ? subs[sub[i]] : billing[bill[i]];
    }
    return out;
  }

  private static String[] day(Rows rows) {
    long[] start = rows.longs(Focus.index("ChargePeriodStart"));
    String[] out = new String[start.length];
    Map<Long, String> names = new HashMap<>();
    for (int i = 0; i < start.length; i++) {
      long d = Math.floorDiv(start[i], 86_400L);
      out[i] = names.computeIfAbsent(d, x -> java.time.LocalDate.ofEpochDay(x).toString());
    }
    return out;
  }

  /** A tag's value per row; "(untagged)" without the tag. Each distinct Tags value is read once. */
  static Dimension tag(String key) {
    Map<String[], String[]> cache = new IdentityHashMap<>();
    return rows -> {
      String[] dict = rows.dictionary(Focus.TAGS);
      String[] values = cache.computeIfAbsent(dict, d -> tagValues(d, key));
      int[] ids = rows.ids(Focus.TAGS);
      String[] out = new String[ids.length];
      for (int i = 0; i < ids.length; i++) {
        out[i] = values[ids[i]];
      }
      return out;
    };
  }

  static final String UNTAGGED = "(untagged)";

  private static String[] tagValues(String[] dict, String key) {
    String[] v = new String[dict.length];
    for (int i = 0; i < dict.length; i++) {
      String t = tags(dict[i]).get(key);
      v[i] = t == null ? UNTAGGED : t;
    }
    return v;
  }

  /** A FOCUS Tags value (a JSON object) as a map; an unreadable one as no tags. */
  static Map<String, String> tags(String json) {
    if (json == null || json.isEmpty()) {
      return Map.of();
    }
    try {
      JsonNode n = JSON.readTree(json);
      if (!n.isObject()) {
        return Map.of();
      }
      Map<String, String> out = new HashMap<>();
      n.fields()
          .forEachRemaining(
              e ->
                  out.put(
                      e.getKey(),
                      e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString()));
      return out;
    } catch (IOException e) {
      return Map.of();
    }
  }

  private static final class Acc {
    final Money.Sum billed = new Money.Sum();
    final Money.Sum effective = new Money.Sum();
    final Money.Sum list = new Money.Sum();
    final Money.Sum contracted = new Money.Sum();
    final Money.Sum committedList = new Money.Sum();
    final Money.Sum committedEffective = new Money.Sum();
    long rows;

    void add(Acc o) {
      billed.add(o.billed);
      effective.add(o.effective);
      list.add(o.list);
      contracted.add(o.contracted);
      committedList.add(o.committedList);
      committedEffective.add(o.committedEffective);
      rows += o.rows;
    }

    Line line(String key) {
      BigDecimal l = list.value();
      BigDecimal e = effective.value();
      return new Line(
          key,
          strip(billed.value()),
          strip(e),
          strip(l),
          strip(contracted.value()),
          strip(l.subtract(e)),
          strip(committedList.value().subtract(committedEffective.value())),
          rows);
    }
  }

  static BigDecimal strip(BigDecimal v) {
    BigDecimal s = v.stripTrailingZeros();
    return s.scale() < 0 ? s.setScale(0) : s;
  }

  /** Runs a report over the ledger. */
  public static Result run(
      Ledger ledger, Periods periods, String by, Dimension dimension, String currency)
      throws IOException {
    Map<String, Acc> acc = new HashMap<>();
    BigDecimal ledgerBilled = BigDecimal.ZERO;
    java.util.TreeSet<String> seen = new java.util.TreeSet<>();
    for (Slice s : ledger.slices()) {
      if (periods.contains(s.period())) {
        ledgerBilled = ledgerBilled.add(new BigDecimal(s.billedCost()));
        seen.add(s.period());
      }
    }
    ledger.scan(
        s -> periods.contains(s.period()),
        rows -> {
          String[] labels = dimension.labels(rows);
          long[] billed = rows.longs(Focus.BILLED);
          long[] effective = rows.longs(Focus.EFFECTIVE);
          long[] list = rows.longs(Focus.LIST);
          long[] contracted = rows.longs(Focus.CONTRACTED);
          int[] commitment = rows.ids(Focus.COMMITMENT);
          int[] category = rows.ids(Focus.CHARGE_CATEGORY);
          String[] categories = rows.dictionary(Focus.CHARGE_CATEGORY);
          Acc last = null;
          String lastKey = null;
          for (int i = 0; i < labels.length; i++) {
            String k = labels[i];
            Acc a;
            if (k == lastKey) {
              a = last;
            } else {
              a = acc.computeIfAbsent(k, x -> new Acc());
              last = a;
              lastKey = k;
            }
            if (billed[i] == Money.BIG
                || effective[i] == Money.BIG
                || list[i] == Money.BIG
                || contracted[i] == Money.BIG) {
              rows.addTo(a.billed, Focus.BILLED, i);
              rows.addTo(a.effective, Focus.EFFECTIVE, i);
              rows.addTo(a.list, Focus.LIST, i);
              rows.addTo(a.contracted, Focus.CONTRACTED, i);
              if (commitment[i] != 0 && "Usage".equals(categories[category[i]])) {
                rows.addTo(a.committedList, Focus.LIST, i);
                rows.addTo(a.committedEffective, Focus.EFFECTIVE, i);
              }
            } else {
              a.billed.add(billed[i]);
              a.effective.add(effective[i]);
              a.list.add(list[i]);
              a.contracted.add(contracted[i]);
              if (commitment[i] != 0 && "Usage".equals(categories[category[i]])) {
                a.committedList.add(list[i]);
                a.committedEffective.add(effective[i]);
              }
            }
            a.rows++;
          }
        });
    List<Map.Entry<String, Acc>> sorted = new ArrayList<>(acc.entrySet());
    sorted.sort(
        Comparator.comparing((Map.Entry<String, Acc> e) -> e.getValue().effective.value())
            .reversed()
            .thenComparing(Map.Entry::getKey));
    Acc total = new Acc();
    List<Line> lines = new ArrayList<>();
    Acc other = null;
    for (Map.Entry<String, Acc> e : sorted) {
      total.add(e.getValue());
      if (lines.size() < MAX_LINES) {
        lines.add(e.getValue().line(e.getKey()));
      } else {
        if (other == null) {
          other = new Acc();
        }
        other.add(e.getValue());
      }
    }
    if (other != null) {
      lines.add(other.line("(other)"));
    }
    return new Result(
        by,
        periods.from(),
        periods.to(),
        currency,
        lines,
        total.line("total"),
        strip(ledgerBilled),
        List.copyOf(seen));
  }
}
