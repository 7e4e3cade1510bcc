package dev.pilothouse.cost;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;

/**
 * Writes a FOCUS 1.0 bill of any size, deterministic for a seed, shaped like the FinOps
 * Foundation's sample data: three providers, accounts, hourly usage of compute, storage and network
 * resources (tagged, some covered by commitments), unused commitments, taxes and credits, amounts
 * with up to ten decimal places. Used by the tests and by {@code bench/cost.sh}. {@code java …
 * GeneratedBill FILE ROWS [SEED] [MONTH]} prints the sum of BilledCost.
 */
public final class GeneratedBill {
  private GeneratedBill() {}

  static final String HEADER =
      "AvailabilityZone,BilledCost,BillingAccountId,BillingAccountName,BillingCurrency,"
          + "BillingPeriodEnd,BillingPeriodStart,ChargeCategory,ChargeClass,ChargeDescription,"
          + "ChargeFrequency,ChargePeriodEnd,ChargePeriodStart,CommitmentDiscountCategory,"
          + "CommitmentDiscountId,CommitmentDiscountName,CommitmentDiscountStatus,"
          + "CommitmentDiscountType,ConsumedQuantity,ConsumedUnit,ContractedCost,"
          + "ContractedUnitPrice,EffectiveCost,InvoiceIssuerName,ListCost,ListUnitPrice,"
          + "PricingCategory,PricingQuantity,PricingUnit,ProviderName,PublisherName,RegionId,"
          + "RegionName,ResourceId,ResourceName,ResourceType,ServiceCategory,ServiceName,SkuId,"
          + "SkuPriceId,SubAccountId,SubAccountName,Tags";

  private record Service(
      String provider, String name, String category, String unit, double price) {}

  private static final List<Service> SERVICES =
      List.of(
          new Service("AWS", "Amazon Elastic Compute Cloud", "Compute", "Hours", 0.096),
          new Service("AWS", "Amazon Simple Storage Service", "Storage", "GB-Mo", 0.023),
          new Service("AWS", "AWS Data Transfer", "Networking", "GB", 0.02),
          new Service("AWS", "Amazon Relational Database Service", "Databases", "Hours", 0.171),
          new Service("Microsoft", "Virtual Machines", "Compute", "Hours", 0.104),
          new Service("Microsoft", "Storage", "Storage", "GB/Month", 0.0184),
          new Service("Google", "Compute Engine", "Compute", "Hour", 0.0475),
          new Service("Google", "Cloud Storage", "Storage", "GiB month", 0.02));

  private static final String[] APPS = {"shop", "search", "billing", "analytics", "web"};
  private static final String[] REGIONS = {"us-east-1", "us-west-2", "eu-west-1", "ap-south-1"};

  /** Writes ROWS rows (gzip when the name ends in .gz); returns the exact sum of BilledCost. */
  public static BigDecimal write(Path file, long rows, long seed, String month) throws IOException {
    SplittableRandom r = new SplittableRandom(seed);
    LocalDate start = LocalDate.parse(month + "-01");
    String periodStart = start + "T00:00:00Z";
    String periodEnd = start.plusMonths(1) + "T00:00:00Z";
    long hours = (start.plusMonths(1).toEpochDay() - start.toEpochDay()) * 24;
    long t0 = start.atStartOfDay().toEpochSecond(ZoneOffset.UTC);
    int resources = (int) Math.max(10, Math.min(200_000, rows / 50));
    long billedUnits = 0;
    BigDecimal billed = BigDecimal.ZERO;
    OutputStream os = Files.newOutputStream(file);
    if (file.toString().endsWith(".gz")) {
      os = new GZIPOutputStream(os, 1 << 16);
    }
    try (Writer w =
        new BufferedWriter(new OutputStreamWriter(os, StandardCharsets.UTF_8), 1 << 16)) {
      w.write(HEADER);
      w.write('\n');
      StringBuilder b = new StringBuilder(512);
      for (long i = 0; i < rows; i++) {
        int res = r.nextInt(resources);
        Service s = SERVICES.get(res % SERVICES.size());
        String account =
            s.provider().equals("AWS")
                ? "1234567890" + (res % 3)
                : s.provider().substring(0, 3).toUpperCase() + "-" + (res % 2);
        String app = APPS[res % APPS.length];
        String region = REGIONS[res % REGIONS.length];
        long hour = (i * 7919 + res) % hours;
        String cs = Instant.ofEpochSecond(t0 + hour * 3600).toString();
        String ce = Instant.ofEpochSecond(t0 + hour * 3600 + 3600).toString();
        int kind = r.nextInt(1000);
        String category = "Usage";
        String status = "";
        String commitment = "";
        String pricing = "Standard";
        double quantity = Math.round(r.nextDouble() * 4 * 1e6) / 1e6;
        long list = Math.round(quantity * s.price() * 1e10);
        long effective = list;
        long billedRow = list;
        if (kind < 150 && s.category().equals("Compute")) { // covered by a commitment
          commitment = "commitment-" + s.provider().toLowerCase() + "-" + (res % 4);
          status = "Used";
          pricing = "Committed";
          effective = Math.round(list * 0.62);
          billedRow = 0;
        } else if (kind < 160) { // an unused commitment's hour
          category = "Purchase";
          commitment = "commitment-" + s.provider().toLowerCase() + "-" + (res % 4);
          status = "Unused";
          pricing = "";
          quantity = 0;
          effective = Math.round(r.nextDouble() * 0.05 * 1e10);
          billedRow = effective;
          list = 0;
        } else if (kind < 170) {
          category = "Tax";
          pricing = "";
          quantity = 0;
          billedRow = Math.round(r.nextDouble() * 0.4 * 1e10);
          effective = billedRow;
          list = 0;
        } else if (kind < 175) {
          category = "Credit";
          pricing = "";
          quantity = 0;
          billedRow = -Math.round(r.nextDouble() * 0.3 * 1e10);
          effective = billedRow;
          list = 0;
        }
        billedUnits = Math.addExact(billedUnits, billedRow);
        b.setLength(0);
        b.append(s.category().equals("Compute") ? region + "a" : "").append(',');
        b.append(dec(billedRow)).append(',');
        b.append(account).append(',').append("Account ").append(account).append(',');
        b.append("USD,").append(periodEnd).append(',').append(periodStart).append(',');
        b.append(category).append(',').append(',');
        b.append('"').append(s.name()).append(" usage, ").append(s.unit()).append('"').append(',');
        b.append(category.equals("Usage") ? "Usage-Based" : "Recurring").append(',');
        b.append(ce).append(',').append(cs).append(',');
        b.append(commitment.isEmpty() ? "" : "Spend").append(',');
        b.append(commitment).append(',').append(commitment).append(',');
        b.append(status).append(',').append(commitment.isEmpty() ? "" : "Savings Plan").append(',');
        b.append(quantity == 0 ? "" : Double.toString(quantity)).append(',');
        b.append(s.unit()).append(',');
        b.append(dec(billedRow)).append(',');
        b.append(s.price()).append(',');
        b.append(dec(effective)).append(',');
        b.append(s.provider()).append(',');
        b.append(dec(list)).append(',');
        b.append(s.price()).append(',');
        b.append(pricing).append(',');
        b.append(quantity == 0 ? "" : Double.toString(quantity)).append(',');
        b.append(s.unit()).append(',');
        b.append(s.provider()).append(',').append(s.provider()).append(',');
        b.append(region).append(',').append(region).append(',');
        String id =
            s.provider().toLowerCase() + "/" + s.category().toLowerCase() + "/" + app + "-" + res;
        b.append(id).append(',').append(app).append('-').append(res).append(',');
        b.append(s.category()).append(',').append(s.category()).append(',');
        b.append('"').append(s.name()).append('"').append(',');
        b.append("SKU")
            .append(res % 97)
            .append(',')
            .append("SKU")
            .append(res % 97)
            .append(".1")
            .append(',');
        b.append(account).append(',').append("Account ").append(account).append(',');
        if (res % 11 != 0) {
          b.append("\"{\"\"app\"\": \"\"")
              .append(app)
              .append("\"\", \"\"env\"\": \"\"")
              .append(res % 2 == 0 ? "prod" : "dev")
              .append("\"\"}\"");
        }
        b.append('\n');
        w.append(b);
      }
    }
    billed = BigDecimal.valueOf(billedUnits, 10);
    return billed;
  }

  private static String dec(long units) {
    return BigDecimal.valueOf(units, 10).toPlainString();
  }

  public static void main(String[] args) throws IOException {
    if (args.length < 2) {
      System.err.println("usage: GeneratedBill FILE ROWS [SEED] [MONTH]");
      System.exit(2);
    }
    BigDecimal sum =
        write(
            Path.of(args[0]),
            Long.parseLong(args[1]),
            args.length > 2 ? Long.parseLong(args[2]) : 1,
            args.length > 3 ? args[3] : "2024-09");
    System.out.println(sum.toPlainString());
  }
}
