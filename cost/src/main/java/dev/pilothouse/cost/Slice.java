package dev.pilothouse.cost;

import java.util.List;
import java.util.Map;

/**
 * What the ledger holds of one provider's billing account for one billing period, as the last
 * ingest of it left it; a later ingest of the same period replaces it (a restatement).
 *
 * @param period the billing period's month, e.g. 2024-09
 * @param hash the rows' content (order does not matter): the same rows again are not re-stored
 * @param billedCost the exact sum of BilledCost of its rows (a decimal string)
 * @param wide amounts kept as exact decimals beside their column (more than twelve places, or
 *     beyond ±9,223,372)
 * @param rates currencies converted into the ledger's currency, and the rate used
 */
public record Slice(
    String provider,
    String account,
    String period,
    long periodStart,
    long rows,
    String hash,
    String billedCost,
    String effectiveCost,
    String listCost,
    String currency,
    List<String> sources,
    String format,
    String ingestedAt,
    Map<String, String> rates,
    long wide) {
  public Slice {
    sources = sources == null ? List.of() : List.copyOf(sources);
    rates = rates == null ? Map.of() : Map.copyOf(rates);
  }

  /** provider/account/period, as shown to people. */
  public String key() {
    return provider + "/" + account + "/" + period;
  }
}
