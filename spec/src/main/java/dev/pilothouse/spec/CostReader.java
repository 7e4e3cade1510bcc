package dev.pilothouse.spec;

import dev.pilothouse.core.spec.CostSpec;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code cost:} section: {@code currency}, {@code hostHourly}, {@code allocate: [{match: {tag |
 * resourceId | serviceName | account}, service}]} and {@code budgets: [{name, monthly, service |
 * account | provider, alertAt}]}.
 */
final class CostReader extends SectionReader {
  static final List<String> COST = List.of("currency", "hostHourly", "allocate", "budgets");
  static final List<String> ALLOCATE = List.of("match", "service");
  static final List<String> MATCH = List.of("tag", "resourceId", "serviceName", "account");
  static final List<String> BUDGET =
      List.of("name", "monthly", "service", "account", "provider", "alertAt");

  /** At most this many allocation rules, and budgets. */
  static final int MAX_RULES = 1000;

  CostReader(SectionReader parent) {
    super(parent);
  }

  CostSpec cost(Fields f, Set<String> services) {
    String currency = f.string("currency").orElse("USD");
    if (!currency.matches("[A-Z]{3}")) {
      problems.at(
          f.get("currency").orElseThrow(),
          f.join("currency"),
          "'" + currency + "' is not a currency code",
          "write an ISO 4217 code such as USD or EUR");
    }
    BigDecimal hourly = f.has("hostHourly") ? money(f, "hostHourly", false) : null;
    List<CostSpec.Allocate> rules = new ArrayList<>();
    items(f, "allocate")
        .ifPresent(
            items -> {
              for (int i = 0; i < items.size(); i++) {
                allocate(items.get(i), f.join("allocate") + "[" + i + "]", services)
                    .ifPresent(rules::add);
              }
            });
    List<CostSpec.Budget> budgets = new ArrayList<>();
    Set<String> names = new java.util.HashSet<>();
    List<Node> budgetItems = items(f, "budgets").orElse(List.of());
    for (int i = 0; i < budgetItems.size(); i++) {
      String at = f.join("budgets") + "[" + i + "]";
      Optional<CostSpec.Budget> b = budget(budgetItems.get(i), at, services);
      String name =
          budgetItems.get(i) instanceof Node.MapNode m
                  && m.entries().get("name") != null
                  && m.entries().get("name").value() instanceof Node.Scalar n
              ? n.text()
              : null;
      if (name != null && !names.add(name)) {
        problems.at(
            budgetItems.get(i),
            at + ".name",
            "budget '" + name + "' is declared twice",
            "give each budget its own name");
      } else {
        b.ifPresent(budgets::add);
      }
    }
    return new CostSpec(currency, hourly, rules, budgets);
  }

  private Optional<List<Node>> items(Fields f, String field) {
    Optional<Node> n = f.get(field);
    if (n.isEmpty()) {
      return Optional.empty();
    }
    if (!(n.get() instanceof Node.ListNode l)) {
      problems.at(
          n.get(),
          f.join(field),
          "must be a list, but is " + n.get().kind(),
          "write '- {…}' items");
      return Optional.empty();
    }
    if (l.items().size() > MAX_RULES) {
      problems.at(n.get(), f.join(field), "more than " + MAX_RULES + " items", "declare fewer");
      return Optional.empty();
    }
    return Optional.of(l.items());
  }

  private BigDecimal money(Fields f, String field, boolean positive) {
    Node n = f.get(field).orElseThrow();
    String p = f.join(field);
    if (!(n instanceof Node.Scalar s)
        || (s.type() != Node.Scalar.Type.INT && s.type() != Node.Scalar.Type.FLOAT)) {
      problems.at(n, p, "must be an amount, but is " + n.kind(), "write e.g. 0.12");
      return null;
    }
    BigDecimal v;
    try {
      v = new BigDecimal(s.text().replace("_", ""));
    } catch (NumberFormatException e) {
      problems.at(n, p, "'" + s.text() + "' is not an amount", "write e.g. 0.12");
      return null;
    }
    if (v.signum() < 0
        || (positive && v.signum() == 0)
        || v.compareTo(new BigDecimal("1e12")) > 0) {
      problems.at(
          n,
          p,
          "must be "
              + (positive ? "more than 0" : "at least 0")
              + " and at most 10^12, but is "
              + s.text(),
          "write the amount in the ledger's currency");
      return null;
    }
    return v;
  }

  private Optional<CostSpec.Allocate> allocate(Node n, String at, Set<String> services) {
    if (!(n instanceof Node.MapNode m)) {
      problems.at(n, at, "must be a map", "write '{match: {tag: app=shop}, service: shop}'");
      return Optional.empty();
    }
    int before = problems.list().size();
    Fields r = new Fields(m, at, problems, ALLOCATE);
    String service = service(r, services, true);
    Optional<Fields> mf = r.object("match", MATCH);
    if (mf.isEmpty()) {
      r.require(
          "match", "write e.g. 'match: {tag: app=shop}' or 'match: {resourceId: \"i-0abc*\"}'");
      return Optional.empty();
    }
    Fields match = mf.get();
    String tag = match.string("tag").orElse(null);
    String key = null;
    String value = null;
    if (tag != null) {
      int eq = tag.indexOf('=');
      key = eq < 0 ? tag : tag.substring(0, eq);
      value = eq < 0 ? null : tag.substring(eq + 1);
      if (key.isEmpty()) {
        problems.at(
            match.get("tag").orElseThrow(),
            match.join("tag"),
            "names no tag key",
            "write KEY=VALUE, or KEY for any value");
      }
    }
    String resource = match.string("resourceId").orElse(null);
    String serviceName = match.string("serviceName").orElse(null);
    String account = match.string("account").orElse(null);
    if (tag == null && resource == null && serviceName == null && account == null) {
      problems.at(
          match.node(),
          match.path(),
          "matches nothing",
          "give at least one of tag, resourceId, serviceName, account");
    }
    return problems.list().size() == before && service != null
        ? Optional.of(new CostSpec.Allocate(key, value, resource, serviceName, account, service))
        : Optional.empty();
  }

  private String service(Fields r, Set<String> services, boolean required) {
    if (!r.has("service")) {
      if (required) {
        r.require("service", "name the service of this spec the matching lines belong to");
      }
      return null;
    }
    String s = r.string("service").orElse(null);
    if (s != null && !services.contains(s)) {
      problems.at(
          r.get("service").orElseThrow(),
          r.join("service"),
          "no service named '" + s + "'",
          services.isEmpty()
              ? "declare the service under services:"
              : "name one of: " + String.join(", ", services));
      return null;
    }
    return s;
  }

  private Optional<CostSpec.Budget> budget(Node n, String at, Set<String> services) {
    if (!(n instanceof Node.MapNode m)) {
      problems.at(n, at, "must be a map", "write '{name: shop, monthly: 500, service: shop}'");
      return Optional.empty();
    }
    int before = problems.list().size();
    Fields b = new Fields(m, at, problems, BUDGET);
    String name = b.string("name").orElse(null);
    if (name == null) {
      b.require("name", "give the budget a name, e.g. shop-monthly");
    } else if (!name.matches("[a-z0-9][a-z0-9._-]{0,62}")) {
      problems.at(
          b.get("name").orElseThrow(),
          b.join("name"),
          "invalid budget name '" + name + "'",
          "use 1 to 63 lowercase letters, digits, '.', '_' and '-'");
    }
    BigDecimal monthly = null;
    if (b.require("monthly", "give the monthly amount, e.g. 500").isPresent()) {
      monthly = money(b, "monthly", true);
    }
    String service = service(b, services, false);
    String account = b.string("account").orElse(null);
    String provider = b.string("provider").orElse(null);
    int scopes =
        (b.has("service") ? 1 : 0) + (account != null ? 1 : 0) + (provider != null ? 1 : 0);
    if (scopes > 1) {
      problems.at(
          m,
          at,
          "give at most one of service, account and provider",
          "a budget covers one scope (none: everything)");
    }
    double alertAt = b.number("alertAt", 0.01, 10, true).orElse(1.0);
    return problems.list().size() == before && name != null && monthly != null
        ? Optional.of(new CostSpec.Budget(name, monthly, service, account, provider, alertAt))
        : Optional.empty();
  }
}
