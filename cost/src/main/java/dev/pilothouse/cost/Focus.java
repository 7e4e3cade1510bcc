package dev.pilothouse.cost;

import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The FOCUS columns the ledger keeps, in the order a row carries them: text dimensions, then
 * timestamps, then decimals. Every other column of an export is read past (and counted).
 */
public final class Focus {
  private Focus() {}

  /** Text columns, stored dictionary-encoded. */
  public static final List<String> TEXT =
      List.of(
          "ProviderName",
          "BillingAccountId",
          "BillingAccountName",
          "SubAccountId",
          "SubAccountName",
          "ServiceName",
          "ServiceCategory",
          "RegionId",
          "RegionName",
          "AvailabilityZone",
          "ChargeCategory",
          "ChargeClass",
          "ChargeFrequency",
          "ChargeDescription",
          "PricingCategory",
          "PricingUnit",
          "ResourceId",
          "ResourceName",
          "ResourceType",
          "CommitmentDiscountId",
          "CommitmentDiscountCategory",
          "CommitmentDiscountStatus",
          "CommitmentDiscountType",
          "ConsumedUnit",
          "SkuId",
          "Tags",
          "BillingCurrency");

  /** Timestamp columns, stored as epoch seconds (UTC). */
  public static final List<String> TIMES =
      List.of("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd");

  /** Decimal columns, stored as {@link Money} units. */
  public static final List<String> AMOUNTS =
      List.of(
          "BilledCost",
          "EffectiveCost",
          "ListCost",
          "ContractedCost",
          "ConsumedQuantity",
          "PricingQuantity",
          "ListUnitPrice",
          "ContractedUnitPrice");

  /** Every kept column, in a row's order. */
  public static final List<String> ALL;

  /** Columns a FOCUS export must have (mandatory in FOCUS 1.0 to 1.2). */
  public static final List<String> REQUIRED =
      List.of(
          "BilledCost",
          "EffectiveCost",
          "ListCost",
          "BillingAccountId",
          "BillingCurrency",
          "BillingPeriodStart",
          "BillingPeriodEnd",
          "ChargeCategory",
          "ChargePeriodStart",
          "ChargePeriodEnd",
          "ProviderName");

  /** Columns whose value may not be null in a row the ledger keeps. */
  public static final List<String> NOT_NULL =
      List.of(
          "BilledCost",
          "BillingAccountId",
          "BillingCurrency",
          "BillingPeriodStart",
          "BillingPeriodEnd",
          "ChargeCategory",
          "ChargePeriodStart",
          "ChargePeriodEnd",
          "ProviderName");

  /** ChargeCategory values of FOCUS 1.0 to 1.2. */
  public static final List<String> CHARGE_CATEGORIES =
      List.of("Usage", "Purchase", "Tax", "Credit", "Adjustment");

  private static final Map<String, Integer> INDEX = new HashMap<>();

  static {
    List<String> all = new ArrayList<>(TEXT);
    all.addAll(TIMES);
    all.addAll(AMOUNTS);
    ALL = List.copyOf(all);
    for (int i = 0; i < ALL.size(); i++) {
      INDEX.put(ALL.get(i), i);
    }
  }

  /** The position of a kept column in a row, or -1. */
  public static int index(String column) {
    Integer i = INDEX.get(column);
    return i == null ? -1 : i;
  }

  public static final int PROVIDER = index("ProviderName");
  public static final int ACCOUNT = index("BillingAccountId");
  public static final int SUB_ACCOUNT = index("SubAccountId");
  public static final int SERVICE = index("ServiceName");
  public static final int SERVICE_CATEGORY = index("ServiceCategory");
  public static final int REGION = index("RegionId");
  public static final int ZONE = index("AvailabilityZone");
  public static final int CHARGE_CATEGORY = index("ChargeCategory");
  public static final int CHARGE_DESCRIPTION = index("ChargeDescription");
  public static final int PRICING_CATEGORY = index("PricingCategory");
  public static final int RESOURCE = index("ResourceId");
  public static final int RESOURCE_TYPE = index("ResourceType");
  public static final int COMMITMENT = index("CommitmentDiscountId");
  public static final int COMMITMENT_STATUS = index("CommitmentDiscountStatus");
  public static final int CONSUMED_UNIT = index("ConsumedUnit");
  public static final int SKU = index("SkuId");
  public static final int TAGS = index("Tags");
  public static final int CURRENCY = index("BillingCurrency");
  public static final int PERIOD_START = index("BillingPeriodStart");
  public static final int PERIOD_END = index("BillingPeriodEnd");
  public static final int CHARGE_START = index("ChargePeriodStart");
  public static final int CHARGE_END = index("ChargePeriodEnd");
  public static final int BILLED = index("BilledCost");
  public static final int EFFECTIVE = index("EffectiveCost");
  public static final int LIST = index("ListCost");
  public static final int CONTRACTED = index("ContractedCost");
  public static final int CONSUMED = index("ConsumedQuantity");
  public static final int LIST_UNIT_PRICE = index("ListUnitPrice");

  /** The FOCUS version a header is written in, from the columns each version added. */
  public static String version(List<String> header) {
    java.util.Set<String> h = new java.util.HashSet<>(header);
    if (h.contains("BillingAccountType")
        || h.contains("InvoiceId")
        || h.contains("PricingCurrency")) {
      return "1.2";
    }
    if (h.contains("CapacityReservationId")
        || h.contains("CommitmentDiscountQuantity")
        || h.contains("ServiceSubcategory")
        || h.contains("SkuMeter")) {
      return "1.1";
    }
    return "1.0";
  }

  /**
   * Epoch seconds of a FOCUS timestamp: ISO 8601 with a 'T' or a space, optional fraction and
   * offset (UTC without one), or a date alone.
   */
  public static long time(String s) {
    int n = s.length();
    // Fast path: yyyy-MM-dd[T ]HH:mm:ss[Z], as nearly every export writes it.
    if ((n == 19 || (n == 20 && (s.charAt(19) == 'Z' || s.charAt(19) == 'z')))
        && s.charAt(4) == '-'
        && s.charAt(7) == '-'
        && (s.charAt(10) == 'T' || s.charAt(10) == ' ')
        && s.charAt(13) == ':'
        && s.charAt(16) == ':') {
      int y = digits(s, 0, 4);
      int mo = digits(s, 5, 2);
      int d = digits(s, 8, 2);
      int h = digits(s, 11, 2);
      int mi = digits(s, 14, 2);
      int se = digits(s, 17, 2);
      if (y >= 0 && mo >= 1 && mo <= 12 && d >= 1 && h >= 0 && h < 24 && mi >= 0 && mi < 60
          && se >= 0 && se < 60) {
        try {
          return LocalDate.of(y, mo, d).toEpochDay() * 86_400L + h * 3600L + mi * 60L + se;
        } catch (java.time.DateTimeException e) {
          // a day the month does not have: the slow path names the error
        }
      }
    }
    String t = s.trim();
    try {
      if (t.length() == 10) {
        return LocalDate.parse(t).atStartOfDay().toEpochSecond(ZoneOffset.UTC);
      }
      String iso =
          t.length() > 10 && t.charAt(10) == ' ' ? t.substring(0, 10) + 'T' + t.substring(11) : t;
      char last = iso.charAt(iso.length() - 1);
      boolean offset =
          last == 'Z'
              || last == 'z'
              || (iso.length() > 19 && (iso.lastIndexOf('+') > 10 || iso.lastIndexOf('-') > 10));
      if (offset) {
        return OffsetDateTime.parse(iso.toUpperCase(Locale.ROOT)).toEpochSecond();
      }
      return LocalDateTime.parse(iso).toEpochSecond(ZoneOffset.UTC);
    } catch (DateTimeParseException | StringIndexOutOfBoundsException e) {
      throw new IllegalArgumentException(
          "'" + Money.clip(s) + "' is not a timestamp (write ISO 8601: 2024-09-01T00:00:00Z)");
    }
  }

  private static int digits(String s, int from, int count) {
    int v = 0;
    for (int i = from; i < from + count; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      v = v * 10 + (c - '0');
    }
    return v;
  }

  /** The month of a billing period start, e.g. 2024-09. */
  public static String month(long epochSecond) {
    return java.time.Instant.ofEpochSecond(epochSecond).toString().substring(0, 7);
  }
}
