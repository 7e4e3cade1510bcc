package dev.pilothouse.spec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.core.spec.CostSpec;
import java.math.BigDecimal;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The cost: section: currency, the host's cost, allocation rules and budgets. */
class CostSpecTest {
  @Test
  void aFullCostSection_isRead() {
    ParsedSpec p =
        SpecParserTest.parse(
            SpecParserTest.svc("")
                + "cost:\n"
                + "  currency: EUR\n"
                + "  hostHourly: 0.0725\n"
                + "  allocate:\n"
                + "    - match: {tag: app=shop}\n"
                + "      service: shop\n"
                + "    - match: {resourceId: 'arn:aws:rds:*:db/shop-*', account: '1234'}\n"
                + "      service: shop\n"
                + "  budgets:\n"
                + "    - {name: shop, service: shop, monthly: 500, alertAt: 0.9}\n"
                + "    - {name: all, monthly: 2000.50}\n");
    assertThat(p.errors()).isEmpty();
    CostSpec c = p.spec().orElseThrow().cost();
    assertThat(c.currency()).isEqualTo("EUR");
    assertThat(c.hostHourly()).isEqualByComparingTo("0.0725");
    assertThat(c.allocate())
        .containsExactly(
            new CostSpec.Allocate("app", "shop", null, null, null, "shop"),
            new CostSpec.Allocate(null, null, "arn:aws:rds:*:db/shop-*", null, "1234", "shop"));
    assertThat(c.budgets())
        .containsExactly(
            new CostSpec.Budget("shop", new BigDecimal("500"), "shop", null, null, 0.9),
            new CostSpec.Budget("all", new BigDecimal("2000.50"), null, null, null, 1.0));
    assertThat(SpecParserTest.parse(SpecParserTest.svc("")).spec().orElseThrow().cost())
        .isEqualTo(CostSpec.none());
  }

  @Test
  void mistakes_areReportedWhereTheyAre() {
    ParsedSpec p =
        SpecParserTest.parse(
            SpecParserTest.svc("")
                + "cost:\n"
                + "  currency: dollars\n"
                + "  hostHourly: -1\n"
                + "  allocate:\n"
                + "    - match: {}\n"
                + "      service: shopp\n"
                + "    - {service: shop}\n"
                + "  budgets:\n"
                + "    - {name: x, monthly: 0}\n"
                + "    - {name: y, monthly: 5, service: shop, provider: AWS}\n"
                + "    - {name: y, monthly: 5}\n");
    List<String> e = p.errors().stream().map(Object::toString).toList();
    assertThat(e)
        .anyMatch(
            s -> s.startsWith("shop.yaml:5:13: cost.currency: 'dollars' is not a currency code"))
        .anyMatch(s -> s.startsWith("shop.yaml:6:15: cost.hostHourly: must be at least 0"))
        .anyMatch(
            s ->
                s.contains("cost.allocate[0].service: no service named 'shopp'")
                    && s.contains("shop"))
        .anyMatch(s -> s.contains("cost.allocate[0].match: matches nothing"))
        .anyMatch(s -> s.contains("cost.allocate[1].match") && s.contains("required"))
        .anyMatch(s -> s.contains("cost.budgets[0].monthly: must be more than 0"))
        .anyMatch(
            s -> s.contains("cost.budgets[1]: give at most one of service, account and provider"))
        .anyMatch(s -> s.contains("cost.budgets[2].name: budget 'y' is declared twice"));
    assertThat(p.spec()).isEmpty();
  }
}
