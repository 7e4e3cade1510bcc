package dev.pilothouse.core.spec;

import static java.util.Objects.requireNonNull;

import java.math.BigDecimal;
import java.util.List;

/**
 * The {@code cost:} section: the currency bills are kept in, how bill lines map to services, what
 * the host itself costs, and budgets.
 *
 * @param currency ISO 4217 code of the ledger (rows in another currency are converted only when an
 *     ingest gives a rate)
 * @param hostHourly what this machine costs an hour (null: not counted), shared by the services on
 *     it by their measured CPU and memory
 * @param allocate rules mapping bill lines to services, first match wins
 * @param budgets monthly budgets with forecast alerts
 */
public record CostSpec(
    String currency, BigDecimal hostHourly, List<Allocate> allocate, List<Budget> budgets) {
  public CostSpec {
    currency = currency == null ? "USD" : currency;
    allocate = allocate == null ? List.of() : List.copyOf(allocate);
    budgets = budgets == null ? List.of() : List.copyOf(budgets);
  }

  public static CostSpec none() {
    return new CostSpec("USD", null, List.of(), List.of());
  }

  /**
   * Bill lines that match go to a service. A match names one or more of: a tag (key and value; a
   * null value matches any value of the key), a ResourceId glob, a ServiceName, a SubAccountId; all
   * that are given must hold.
   */
  public record Allocate(
      String tagKey,
      String tagValue,
      String resourceId,
      String serviceName,
      String account,
      String service) {
    public Allocate {
      requireNonNull(service, "service");
    }
  }

  /**
   * A monthly budget over a scope: a service (its allocated cost), a SubAccountId, a provider or
   * everything (all null).
   *
   * @param alertAt the fraction of the budget the forecast may reach before the alert fires
   */
  public record Budget(
      String name,
      BigDecimal monthly,
      String service,
      String account,
      String provider,
      double alertAt) {
    public Budget {
      requireNonNull(name, "name");
      requireNonNull(monthly, "monthly");
    }
  }
}
