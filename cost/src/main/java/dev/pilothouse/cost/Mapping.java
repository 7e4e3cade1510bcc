package dev.pilothouse.cost;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Turns a bill file's rows into the ledger's FOCUS columns: FOCUS as it is, AWS CUR 2.0 mapped. */
abstract sealed class Mapping {
  /** What the file is, e.g. "FOCUS 1.0" or "AWS CUR 2.0". */
  abstract String format();

  /** Header columns the ledger does not keep. */
  abstract List<String> unused();

  /** The row as {@link Focus#ALL}; null for a missing value. */
  abstract String[] map(String[] raw);

  /**
   * The mapping of a header. Errors never quote the header: a file that is not a bill (any file the
   * daemon can read) must not show its first line to whoever asked to ingest it.
   */
  static Mapping of(List<String> header) throws BillException {
    Map<String, Integer> at = new HashMap<>();
    Map<String, Integer> lower = new HashMap<>();
    for (int i = 0; i < header.size(); i++) {
      at.putIfAbsent(header.get(i), i);
      lower.putIfAbsent(header.get(i).toLowerCase(Locale.ROOT), i);
    }
    if (lower.containsKey("line_item_unblended_cost")) {
      return new Cur(header, lower);
    }
    if (lower.containsKey("lineitem/unblendedcost")) {
      throw new BillException(
          "this is a legacy AWS Cost and Usage Report (lineItem/… columns)",
          "export the bill as CUR 2.0 or FOCUS from AWS Data Exports");
    }
    if (at.containsKey("ChargeType") && !at.containsKey("ChargeCategory")) {
      throw new BillException(
          "this is a FOCUS 0.5 export (ChargeType, no ChargeCategory)",
          "export the bill as FOCUS 1.0, 1.1 or 1.2");
    }
    return new FocusColumns(header, at, lower);
  }

  static final class FocusColumns extends Mapping {
    private final int[] source = new int[Focus.ALL.size()];
    private final String version;
    private final List<String> unused = new ArrayList<>();

    FocusColumns(List<String> header, Map<String, Integer> at, Map<String, Integer> lower)
        throws BillException {
      List<String> missing = new ArrayList<>();
      for (int i = 0; i < Focus.ALL.size(); i++) {
        String c = Focus.ALL.get(i);
        Integer s = at.get(c);
        if (s == null) {
          s = lower.get(c.toLowerCase(Locale.ROOT));
        }
        if (s == null && c.equals("ProviderName")) {
          s = at.get("ServiceProviderName"); // FOCUS 1.3's name
        }
        source[i] = s == null ? -1 : s;
        if (s == null && Focus.REQUIRED.contains(c)) {
          missing.add(c);
        }
      }
      if (!missing.isEmpty()) {
        throw new BillException(
            "missing FOCUS column"
                + (missing.size() == 1 ? " " : "s ")
                + String.join(", ", missing)
                + " (its first line has "
                + header.size()
                + (header.size() == 1 ? " column" : " columns")
                + ")",
            "export the bill as FOCUS 1.0 to 1.2 (or AWS CUR 2.0); column names are"
                + " case-sensitive in FOCUS");
      }
      java.util.Set<Integer> used = new java.util.HashSet<>();
      for (int s : source) {
        used.add(s);
      }
      for (int i = 0; i < header.size(); i++) {
        if (!used.contains(i)) {
          unused.add(header.get(i));
        }
      }
      version = Focus.version(header);
    }

    @Override
    String format() {
      return "FOCUS " + version;
    }

    @Override
    List<String> unused() {
      return unused;
    }

    @Override
    String[] map(String[] raw) {
      String[] out = new String[source.length];
      for (int i = 0; i < source.length; i++) {
        int s = source[i];
        out[i] = s < 0 ? null : RawRows.nullable(raw[s]);
      }
      return out;
    }
  }

  /**
   * AWS CUR 2.0 to FOCUS, as AWS's own FOCUS export maps it for the columns a CUR has: costs from
   * the unblended cost, the amortized cost of covered usage from the Savings Plan and reservation
   * effective costs, list cost from the public on-demand cost, and the line item type to a charge
   * category (see docs/spec.md).
   */
  static final class Cur extends Mapping {
    private final Map<String, Integer> at;
    private final List<String> unused = new ArrayList<>();
    private static final List<String> USED =
        List.of(
            "bill_payer_account_id",
            "bill_payer_account_name",
            "bill_billing_period_start_date",
            "bill_billing_period_end_date",
            "line_item_usage_account_id",
            "line_item_usage_account_name",
            "line_item_line_item_type",
            "line_item_usage_start_date",
            "line_item_usage_end_date",
            "line_item_product_code",
            "line_item_availability_zone",
            "line_item_resource_id",
            "line_item_usage_amount",
            "line_item_currency_code",
            "line_item_unblended_cost",
            "line_item_net_unblended_cost",
            "line_item_line_item_description",
            "product_product_family",
            "product_region_code",
            "product_servicecode",
            "product_sku",
            "product_instance_type",
            "pricing_unit",
            "pricing_public_on_demand_cost",
            "pricing_public_on_demand_rate",
            "pricing_term",
            "resource_tags",
            "reservation_reservation_a_r_n",
            "reservation_effective_cost",
            "reservation_unused_amortized_upfront_fee_for_billing_period",
            "reservation_unused_recurring_fee",
            "savings_plan_savings_plan_a_r_n",
            "savings_plan_savings_plan_effective_cost",
            "savings_plan_total_commitment_to_date",
            "savings_plan_used_commitment");

    Cur(List<String> header, Map<String, Integer> lower) throws BillException {
      this.at = lower;
      List<String> missing = new ArrayList<>();
      for (String c :
          List.of(
              "bill_payer_account_id",
              "bill_billing_period_start_date",
              "bill_billing_period_end_date",
              "line_item_line_item_type",
              "line_item_usage_start_date",
              "line_item_usage_end_date",
              "line_item_currency_code")) {
        if (!at.containsKey(c)) {
          missing.add(c);
        }
      }
      if (!missing.isEmpty()) {
        throw new BillException(
            "an AWS CUR 2.0 export without " + String.join(", ", missing),
            "export CUR 2.0 with all its billing and line item columns");
      }
      for (String h : header) {
        if (!USED.contains(h.toLowerCase(Locale.ROOT))) {
          unused.add(h);
        }
      }
    }

    @Override
    String format() {
      return "AWS CUR 2.0";
    }

    @Override
    List<String> unused() {
      return unused;
    }

    private String get(String[] raw, String column) {
      Integer i = at.get(column);
      return i == null ? null : RawRows.nullable(raw[i]);
    }

    @Override
    String[] map(String[] raw) {
      String[] o = new String[Focus.ALL.size()];
      String type = get(raw, "line_item_line_item_type");
      String unblended = get(raw, "line_item_unblended_cost");
      String net = get(raw, "line_item_net_unblended_cost");
      String sp = get(raw, "savings_plan_savings_plan_a_r_n");
      String ri = get(raw, "reservation_reservation_a_r_n");
      set(o, "ProviderName", "AWS");
      set(o, "BillingAccountId", get(raw, "bill_payer_account_id"));
      set(o, "BillingAccountName", get(raw, "bill_payer_account_name"));
      set(o, "SubAccountId", get(raw, "line_item_usage_account_id"));
      set(o, "SubAccountName", get(raw, "line_item_usage_account_name"));
      String service = get(raw, "product_servicecode");
      set(o, "ServiceName", service != null ? service : get(raw, "line_item_product_code"));
      set(o, "ServiceCategory", category(get(raw, "product_product_family")));
      set(o, "RegionId", get(raw, "product_region_code"));
      set(o, "AvailabilityZone", get(raw, "line_item_availability_zone"));
      set(o, "ChargeCategory", chargeCategory(type));
      set(
          o,
          "ChargeFrequency",
          type != null && type.endsWith("UpfrontFee") ? "One-Time" : "Usage-Based");
      set(o, "ChargeDescription", get(raw, "line_item_line_item_description"));
      set(o, "PricingUnit", get(raw, "pricing_unit"));
      set(o, "ConsumedUnit", get(raw, "pricing_unit"));
      set(o, "ResourceId", get(raw, "line_item_resource_id"));
      set(o, "ResourceType", get(raw, "product_instance_type"));
      set(o, "SkuId", get(raw, "product_sku"));
      set(o, "Tags", tags(get(raw, "resource_tags")));
      set(o, "BillingCurrency", get(raw, "line_item_currency_code"));
      set(o, "BillingPeriodStart", get(raw, "bill_billing_period_start_date"));
      set(o, "BillingPeriodEnd", get(raw, "bill_billing_period_end_date"));
      set(o, "ChargePeriodStart", get(raw, "line_item_usage_start_date"));
      set(o, "ChargePeriodEnd", get(raw, "line_item_usage_end_date"));
      set(o, "BilledCost", unblended);
      set(o, "ContractedCost", net != null ? net : unblended);
      set(o, "ListCost", get(raw, "pricing_public_on_demand_cost"));
      set(o, "ListUnitPrice", get(raw, "pricing_public_on_demand_rate"));
      String effective = unblended;
      String term = get(raw, "pricing_term");
      String pricing = "Spot".equalsIgnoreCase(term) ? "Dynamic" : "Standard";
      if ("SavingsPlanCoveredUsage".equals(type)) {
        effective = get(raw, "savings_plan_savings_plan_effective_cost");
        commitment(o, sp, "Spend", "Savings Plan", "Used");
        pricing = "Committed";
      } else if ("DiscountedUsage".equals(type)) {
        effective = get(raw, "reservation_effective_cost");
        commitment(o, ri, "Usage", "Reserved Instance", "Used");
        pricing = "Committed";
      } else if ("SavingsPlanNegation".equals(type) || "SavingsPlanUpfrontFee".equals(type)) {
        effective = "0";
        commitment(o, sp, "Spend", "Savings Plan", null);
      } else if ("SavingsPlanRecurringFee".equals(type)) {
        effective =
            difference(
                get(raw, "savings_plan_total_commitment_to_date"),
                get(raw, "savings_plan_used_commitment"));
        commitment(o, sp, "Spend", "Savings Plan", "Unused");
      } else if ("RIFee".equals(type)) {
        effective =
            sum(
                get(raw, "reservation_unused_amortized_upfront_fee_for_billing_period"),
                get(raw, "reservation_unused_recurring_fee"));
        commitment(o, ri, "Usage", "Reserved Instance", "Unused");
      }
      set(o, "EffectiveCost", effective == null ? "0" : effective);
      set(o, "PricingCategory", "Usage".equals(o[Focus.CHARGE_CATEGORY]) ? pricing : null);
      if (type != null && type.contains("Usage")) {
        set(o, "ConsumedQuantity", get(raw, "line_item_usage_amount"));
        set(o, "PricingQuantity", get(raw, "line_item_usage_amount"));
      }
      return o;
    }

    private static void commitment(
        String[] o, String id, String category, String kind, String status) {
      if (id != null) {
        set(o, "CommitmentDiscountId", id);
        set(o, "CommitmentDiscountCategory", category);
        set(o, "CommitmentDiscountType", kind);
        set(o, "CommitmentDiscountStatus", status);
      }
    }

    private static String sum(String a, String b) {
      if (a == null && b == null) {
        return null;
      }
      return new java.math.BigDecimal(a == null ? "0" : a)
          .add(new java.math.BigDecimal(b == null ? "0" : b))
          .toPlainString();
    }

    private static String difference(String a, String b) {
      if (a == null) {
        return null;
      }
      return new java.math.BigDecimal(a)
          .subtract(new java.math.BigDecimal(b == null ? "0" : b))
          .max(java.math.BigDecimal.ZERO)
          .toPlainString();
    }

    /** CUR 2.0 writes resource tags as a JSON map with keys like "user_app"; FOCUS has "app". */
    static String tags(String json) {
      if (json == null || json.equals("{}")) {
        return null;
      }
      return json.replace("\"user_", "\"").replace("\"user:", "\"");
    }

    static String chargeCategory(String type) {
      if (type == null) {
        return null;
      }
      return switch (type) {
        case "Usage", "DiscountedUsage", "SavingsPlanCoveredUsage", "SavingsPlanNegation" ->
            "Usage";
        case "Tax" -> "Tax";
        case "Credit",
            "Refund",
            "BundledDiscount",
            "Discount",
            "EdpDiscount",
            "PrivateRateDiscount",
            "SppDiscount" ->
            "Credit";
        case "RIFee", "Fee", "SavingsPlanRecurringFee", "SavingsPlanUpfrontFee" -> "Purchase";
        default -> "Adjustment";
      };
    }

    static String category(String family) {
      if (family == null) {
        return null;
      }
      String f = family.toLowerCase(Locale.ROOT);
      if (f.contains("compute") || f.contains("instance") || f.contains("lambda")) {
        return "Compute";
      }
      if (f.contains("storage") || f.contains("snapshot") || f.contains("volume")) {
        return "Storage";
      }
      if (f.contains("transfer")
          || f.contains("load balancer")
          || f.contains("ip address")
          || f.contains("nat gateway")) {
        return "Networking";
      }
      if (f.contains("database")) {
        return "Databases";
      }
      return "Other";
    }

    private static void set(String[] o, String column, String v) {
      o[Focus.index(column)] = v;
    }
  }
}
