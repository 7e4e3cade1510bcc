package dev.pilothouse.cost;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What could cost less, each with its monthly saving, its evidence and its risk: right-sizing from
 * measured usage, idle resources in the bill, commitments (utilisation of those held; coverage,
 * break-even and saving of one more), spot where a price catalogue gives its price, storage tiering
 * by access age, and network transfer hotspots. Prices come from the bill itself (ListCost,
 * EffectiveCost of covered usage) and from an optional catalogue; nothing is fetched.
 */
public final class Recommendations {
  private Recommendations() {}

  /** Hours in an average month. */
  static final BigDecimal MONTH_HOURS = new BigDecimal("730");

  /** Discount assumed for a new commitment when the bill shows none and no catalogue gives it. */
  static final BigDecimal ASSUMED_COMMITMENT_DISCOUNT = new BigDecimal("0.28");

  /**
   * Price ratio of an infrequent-access storage tier without a catalogue (S3 Standard-IA/Standard).
   */
  static final BigDecimal ASSUMED_COLD_RATIO = new BigDecimal("0.54");

  /** One recommendation. */
  public record Recommendation(
      String kind,
      String target,
      String action,
      BigDecimal monthlySaving,
      String evidence,
      String risk) {}

  /** What the autoscaler's advisor recommends for a service, beside what it declares. */
  public record Sizing(
      String service,
      int instances,
      double declaredCpu,
      long declaredMemory,
      double recommendedCpu,
      long recommendedMemory,
      double cpuP95,
      double memoryMax,
      String window) {}

  /**
   * A price catalogue line: per SkuId, the on-demand, committed and spot unit prices (any may be
   * null).
   */
  public record Price(
      String sku,
      BigDecimal onDemand,
      BigDecimal committed,
      BigDecimal spot,
      BigDecimal coldRatio) {}

  /**
   * Reads a catalogue: CSV with a header naming SkuId and any of OnDemand, Committed, Spot,
   * ColdRatio.
   */
  public static Map<String, Price> catalogue(java.nio.file.Path file)
      throws IOException, BillException {
    Map<String, Price> out = new HashMap<>();
    List<String> lines = java.nio.file.Files.readAllLines(file);
    if (lines.isEmpty()) {
      return out;
    }
    List<String> h = List.of(lines.get(0).split(",", -1));
    int sku = h.indexOf("SkuId");
    if (sku < 0) {
      throw new BillException(
          file + ":1: the catalogue has no SkuId column",
          "write a header: SkuId,OnDemand,Committed,Spot,ColdRatio");
    }
    for (int i = 1; i < lines.size(); i++) {
      String[] f = lines.get(i).split(",", -1);
      if (f.length != h.size()) {
        throw new BillException(
            file + ":" + (i + 1) + ": " + f.length + " fields where the header has " + h.size(),
            "one price per field");
      }
      try {
        out.put(
            f[sku],
            new Price(
                f[sku],
                col(h, f, "OnDemand"),
                col(h, f, "Committed"),
                col(h, f, "Spot"),
                col(h, f, "ColdRatio")));
      } catch (NumberFormatException e) {
        throw new BillException(
            file + ":" + (i + 1) + ": a price is not a number", "write prices as decimals");
      }
    }
    return out;
  }

  private static BigDecimal col(List<String> h, String[] f, String name) {
    int i = h.indexOf(name);
    return i < 0 || f[i].isBlank() ? null : new BigDecimal(f[i].trim());
  }

  /** Right-sizing: what declaring the advised resources would free of the host's cost. */
  public static List<Recommendation> rightSize(
      List<Sizing> sizings, BigDecimal hostHourly, double cores, double memory) {
    List<Recommendation> out = new ArrayList<>();
    for (Sizing s : sizings) {
      if (s.recommendedCpu() <= 0 && s.recommendedMemory() <= 0) {
        continue;
      }
      double freedCpu =
          s.declaredCpu() > 0 && s.recommendedCpu() > 0
              ? Math.max(0, s.declaredCpu() - s.recommendedCpu())
              : 0;
      double freedMem =
          s.declaredMemory() > 0 && s.recommendedMemory() > 0
              ? Math.max(0, s.declaredMemory() - s.recommendedMemory())
              : 0;
      if (freedCpu == 0 && freedMem == 0) {
        continue;
      }
      double share = 0.5 * freedCpu / cores + 0.5 * freedMem / memory;
      BigDecimal saving =
          hostHourly == null
              ? BigDecimal.ZERO
              : hostHourly
                  .multiply(MONTH_HOURS)
                  .multiply(
                      BigDecimal.valueOf(share * Math.max(1, s.instances())),
                      MathContext.DECIMAL64);
      out.add(
          new Recommendation(
              "rightsize",
              s.service(),
              String.format(
                  Locale.ROOT,
                  "set resources to cpu %.2f, memory %dMi (now cpu %.2f, memory %dMi) on each of %d instances",
                  s.recommendedCpu(),
                  s.recommendedMemory() >> 20,
                  s.declaredCpu(),
                  s.declaredMemory() >> 20,
                  s.instances()),
              money(saving),
              String.format(
                  Locale.ROOT,
                  "over %s: p95 CPU %.3f cores, peak memory %dMi per instance (the autoscaler's advice: +20%% headroom)",
                  s.window(),
                  s.cpuP95(),
                  (long) s.memoryMax() >> 20),
              hostHourly == null
                  ? "no cost.hostHourly: the saving is capacity, not money; bursts above the p95 are throttled"
                  : "bursts above the p95 are throttled; memory beyond the peak seen is killed (OOM)"));
    }
    return out;
  }

  /** What the bill says over a window: the recommendations drawn from it. */
  public static List<Recommendation> fromBill(
      Ledger ledger, long from, long to, Map<String, Price> prices) throws IOException {
    double days = Math.max(1, (to - from) / 86_400.0);
    BigDecimal perMonth =
        new BigDecimal("30.4").divide(BigDecimal.valueOf(days), MathContext.DECIMAL64);
    Map<String, Money.Sum> resourceCost = new HashMap<>();
    Map<String, Boolean> resourceConsumed = new HashMap<>();
    Map<String, Boolean> resourceIdleSku = new HashMap<>();
    Map<String, String> resourceService = new HashMap<>();
    Map<String, Money.Sum> storageCost = new HashMap<>();
    Map<String, Long> lastAccess = new HashMap<>();
    Map<String, Money.Sum> transfer = new HashMap<>();
    Money.Sum used = new Money.Sum();
    Money.Sum unused = new Money.Sum();
    Money.Sum coveredList = new Money.Sum();
    Money.Sum coveredEffective = new Money.Sum();
    Money.Sum eligibleList = new Money.Sum();
    Map<Long, Money.Sum> onDemandHourly = new HashMap<>();
    Map<String, Money.Sum> onDemandBySku = new HashMap<>();
    ledger.scan(
        s -> s.periodStart() < to && s.periodStart() + 32 * 86_400L > from,
        rows -> {
          long[] start = rows.longs(Focus.CHARGE_START);
          int[] cat = rows.ids(Focus.CHARGE_CATEGORY);
          String[] cats = rows.dictionary(Focus.CHARGE_CATEGORY);
          for (int i = 0; i < start.length; i++) {
            if (start[i] < from || start[i] >= to) {
              continue;
            }
            String category = cats[cat[i]];
            String resource = rows.text(Focus.RESOURCE, i);
            String serviceCategory = rows.text(Focus.SERVICE_CATEGORY, i);
            String description = rows.text(Focus.CHARGE_DESCRIPTION, i);
            String d = description == null ? "" : description.toLowerCase(Locale.ROOT);
            String status = rows.text(Focus.COMMITMENT_STATUS, i);
            if ("Used".equals(status)) {
              rows.addTo(used, Focus.EFFECTIVE, i);
            } else if ("Unused".equals(status)) {
              rows.addTo(unused, Focus.EFFECTIVE, i);
            }
            boolean usage = "Usage".equals(category);
            if (usage && "Compute".equals(serviceCategory)) {
              rows.addTo(eligibleList, Focus.LIST, i);
              if (rows.ids(Focus.COMMITMENT)[i] != 0) {
                rows.addTo(coveredList, Focus.LIST, i);
                rows.addTo(coveredEffective, Focus.EFFECTIVE, i);
              } else if (!"Dynamic".equals(rows.text(Focus.PRICING_CATEGORY, i))) {
                rows.addTo(
                    onDemandHourly.computeIfAbsent(start[i] / 3600, h -> new Money.Sum()),
                    Focus.EFFECTIVE,
                    i);
                String sku = rows.text(Focus.SKU, i);
                if (sku != null) {
                  rows.addTo(
                      onDemandBySku.computeIfAbsent(sku, k -> new Money.Sum()), Focus.EFFECTIVE, i);
                }
              }
            }
            if (resource != null && usage) {
              rows.addTo(
                  resourceCost.computeIfAbsent(resource, r -> new Money.Sum()), Focus.EFFECTIVE, i);
              BigDecimal q = rows.amount(Focus.CONSUMED, i);
              if (q != null
                  && q.signum() != 0
                  && !d.contains("idle")
                  && !d.contains("not attached")
                  && !d.contains("unattached")) {
                resourceConsumed.put(resource, true);
              } else {
                resourceConsumed.putIfAbsent(resource, false);
              }
              if (d.contains("idle") || d.contains("not attached") || d.contains("unattached")) {
                resourceIdleSku.put(resource, true);
              }
              resourceService.putIfAbsent(resource, rows.text(Focus.SERVICE, i));
              String unit = rows.text(Focus.CONSUMED_UNIT, i);
              String u = unit == null ? "" : unit.toLowerCase(Locale.ROOT);
              if ("Storage".equals(serviceCategory)) {
                if (u.contains("gb-mo")
                    || u.contains("month")
                    || u.contains("gb/month")
                    || u.contains("byte-hrs")) {
                  rows.addTo(
                      storageCost.computeIfAbsent(resource, r -> new Money.Sum()),
                      Focus.EFFECTIVE,
                      i);
                } else {
                  lastAccess.merge(resource, start[i], Math::max);
                }
              }
            }
            if ("Networking".equals(serviceCategory)
                || d.contains("data transfer")
                || d.contains("datatransfer")
                || d.contains("egress")) {
              String kind =
                  d.contains("inter-zone")
                          || d.contains("interzone")
                          || d.contains("between availability zones")
                          || d.contains("regional data transfer")
                      ? "inter-zone"
                      : d.contains("out") || d.contains("egress") || d.contains("internet")
                          ? "egress"
                          : "network";
              rows.addTo(
                  transfer.computeIfAbsent(
                      kind + "\u0000" + (resource == null ? rows.text(Focus.SERVICE, i) : resource),
                      r -> new Money.Sum()),
                  Focus.EFFECTIVE,
                  i);
            }
          }
        });
    List<Recommendation> out = new ArrayList<>();
    String window = String.format(Locale.ROOT, "%.0f days of the bill", days);
    // Idle resources: charged, with nothing consumed (or an idle/unattached SKU).
    resourceCost.forEach(
        (r, c) -> {
          BigDecimal cost = c.value();
          if (cost.signum() > 0
              && (Boolean.FALSE.equals(resourceConsumed.get(r))
                  || Boolean.TRUE.equals(resourceIdleSku.get(r)))) {
            out.add(
                new Recommendation(
                    "idle",
                    r,
                    "delete or release it (" + resourceService.getOrDefault(r, "?") + ")",
                    money(cost.multiply(perMonth)),
                    money(cost)
                        + " over "
                        + window
                        + " with no usage consumed"
                        + (Boolean.TRUE.equals(resourceIdleSku.get(r))
                            ? " (billed as idle or unattached)"
                            : ""),
                    "check nothing refers to it (DNS, configuration, a standby) before deleting; snapshots keep data"));
          }
        });
    // Commitments held: unused hours are money spent for nothing.
    BigDecimal u = used.value();
    BigDecimal un = unused.value();
    if (un.signum() > 0) {
      BigDecimal utilisation =
          u.add(un).signum() == 0 ? BigDecimal.ZERO : u.divide(u.add(un), MathContext.DECIMAL64);
      out.add(
          new Recommendation(
              "commitment-utilisation",
              "commitments",
              "move usage onto the commitments (or exchange/sell the unused part)",
              money(un.multiply(perMonth)),
              String.format(
                  Locale.ROOT,
                  "utilisation %.1f%% over %s: %s used, %s unused",
                  utilisation.doubleValue() * 100,
                  window,
                  money(u),
                  money(un)),
              "none in using what is paid for; selling reserved instances has fees and rules"));
    }
    // One more commitment: cover the steady on-demand baseline.
    BigDecimal eligible = eligibleList.value();
    BigDecimal covered = coveredList.value();
    BigDecimal discount =
        covered.signum() > 0
            ? BigDecimal.ONE.subtract(
                coveredEffective.value().divide(covered, MathContext.DECIMAL64))
            : ASSUMED_COMMITMENT_DISCOUNT;
    String discountFrom =
        covered.signum() > 0
            ? "the bill's covered usage"
            : "an assumed 28% (no covered usage in the bill)";
    if (!onDemandHourly.isEmpty() && discount.signum() > 0) {
      long hours = Math.max(1, (to - from) / 3600);
      double[] perHour = new double[(int) Math.min(hours, 24 * 400)];
      onDemandHourly.forEach(
          (h, s) -> {
            int idx = (int) (h - from / 3600);
            if (idx >= 0 && idx < perHour.length) {
              perHour[idx] = s.value().doubleValue();
            }
          });
      java.util.Arrays.sort(perHour);
      double baseline = perHour[(int) (perHour.length * 0.1)]; // spent in 90% of the hours
      if (baseline > 0) {
        BigDecimal b = BigDecimal.valueOf(baseline);
        BigDecimal saving = b.multiply(MONTH_HOURS).multiply(discount);
        out.add(
            new Recommendation(
                "commitment",
                "compute",
                String.format(
                    Locale.ROOT,
                    "commit to %s an hour of compute (savings plan or reserved capacity)",
                    money(b)),
                money(saving),
                String.format(
                    Locale.ROOT,
                    "on-demand compute spend is at least %s in 90%% of the hours of %s; coverage now %.1f%%; discount %.1f%% from %s; break-even at %.0f%% utilisation",
                    money(b),
                    window,
                    eligible.signum() == 0
                        ? 0
                        : covered.divide(eligible, MathContext.DECIMAL64).doubleValue() * 100,
                    discount.doubleValue() * 100,
                    discountFrom,
                    (1 - discount.doubleValue()) * 100),
                "a commitment is paid for 1 or 3 years whether used or not: it loses money below the break-even utilisation"));
      }
    }
    // Spot: where the catalogue prices it.
    onDemandBySku.forEach(
        (sku, s) -> {
          Price p = prices.get(sku);
          if (p != null
              && p.spot() != null
              && p.onDemand() != null
              && p.onDemand().signum() > 0
              && p.spot().compareTo(p.onDemand()) < 0) {
            BigDecimal ratio =
                BigDecimal.ONE.subtract(p.spot().divide(p.onDemand(), MathContext.DECIMAL64));
            out.add(
                new Recommendation(
                    "spot",
                    sku,
                    "run the interruptible part of this SKU's work on spot capacity",
                    money(s.value().multiply(perMonth).multiply(ratio)),
                    String.format(
                        Locale.ROOT,
                        "%s on demand over %s; the catalogue's spot price is %.0f%% lower",
                        money(s.value()),
                        window,
                        ratio.doubleValue() * 100),
                    "spot capacity is taken back at short notice: only for stateless, restartable work"));
          }
        });
    // Storage not accessed for 30 days or more: an infrequent-access tier.
    storageCost.forEach(
        (r, c) -> {
          Long last = lastAccess.get(r);
          long age = last == null ? to - from : to - last;
          if (age >= 30 * 86_400L && c.value().signum() > 0) {
            BigDecimal ratio = ASSUMED_COLD_RATIO;
            BigDecimal saving =
                c.value().multiply(perMonth).multiply(BigDecimal.ONE.subtract(ratio));
            out.add(
                new Recommendation(
                    "storage-tier",
                    r,
                    "move it to an infrequent-access storage class",
                    money(saving),
                    money(c.value())
                        + " of storage over "
                        + window
                        + "; "
                        + (last == null
                            ? "no requests or retrievals in the bill"
                            : "last request " + age / 86_400 + " days before the window's end"),
                    "retrievals are charged and such tiers have minimum storage durations; the tier price is assumed at 54% of the standard class"));
          }
        });
    // Network transfer hotspots: the five largest.
    List<Map.Entry<String, Money.Sum>> t = new ArrayList<>(transfer.entrySet());
    t.sort((a, b) -> b.getValue().value().compareTo(a.getValue().value()));
    for (Map.Entry<String, Money.Sum> e : t.subList(0, Math.min(5, t.size()))) {
      String[] k = e.getKey().split("\u0000", 2);
      BigDecimal monthly = e.getValue().value().multiply(perMonth);
      if (monthly.compareTo(new BigDecimal("0.01")) < 0) {
        continue;
      }
      boolean interZone = k[0].equals("inter-zone");
      out.add(
          new Recommendation(
              "network",
              k[1],
              interZone
                  ? "keep the talking parts in one zone"
                  : "compress or cache (a CDN) what leaves, or keep traffic inside the provider",
              money(interZone ? monthly : monthly.multiply(new BigDecimal("0.3"))),
              money(e.getValue().value()) + " of " + k[0] + " transfer over " + window,
              interZone
                  ? "one zone is one failure domain"
                  : "the saving assumes 30% less transferred; measure before and after"));
    }
    return out;
  }

  static BigDecimal money(BigDecimal v) {
    return v.setScale(2, RoundingMode.HALF_EVEN);
  }
}
