package dev.pilothouse.tsdb.promql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Parsing: precedence, modifiers, and clear errors with positions. */
class ParserTest {
  @Test
  void precedenceAndAssociativity() {
    // 2 ^ 3 ^ 2 = 2 ^ 9 (right-assoc); -2 ^ 2 = -(2 ^ 2); 1 + 2 * 3 = 7; 8 / 2 / 2 = 2.
    Engine e = new Engine((mint, maxt, ms, b) -> java.util.List.of(), Engine.Options.defaults());
    assertThat(scalar(e, "2 ^ 3 ^ 2")).isEqualTo(512);
    assertThat(scalar(e, "-2 ^ 2")).isEqualTo(-4);
    assertThat(scalar(e, "1 + 2 * 3")).isEqualTo(7);
    assertThat(scalar(e, "8 / 2 / 2")).isEqualTo(2);
    assertThat(scalar(e, "2 * 3 % 4")).isEqualTo(2);
    assertThat(scalar(e, "1 < bool 2")).isEqualTo(1);
    assertThat(scalar(e, "0x10 + 1e1")).isEqualTo(26);
    assertThat(scalar(e, "time()")).isEqualTo(1234.5);
  }

  static double scalar(Engine e, String q) {
    return ((Value.Scalar) e.instant(q, 1_234_500)).v();
  }

  @Test
  void modifiersAndSubqueries() {
    Ast.Expr e =
        Parser.parse("rate(http_requests_total{job=~\"api|web\"}[5m] offset 1h @ 1700000000)");
    Ast.MatrixSelector m = (Ast.MatrixSelector) ((Ast.Call) e).args().get(0);
    assertThat(m.rangeMs()).isEqualTo(300_000);
    assertThat(m.selector().time().offsetMs()).isEqualTo(3_600_000);
    assertThat(m.selector().time().at()).isEqualTo(1_700_000_000_000L);
    Ast.Subquery s =
        (Ast.Subquery)
            ((Ast.Call) Parser.parse("max_over_time(rate(x[1m])[10m:30s])")).args().get(0);
    assertThat(s.rangeMs()).isEqualTo(600_000);
    assertThat(s.stepMs()).isEqualTo(30_000);
    Ast.Binary b = (Ast.Binary) Parser.parse("a * on(job) group_left(instance) b");
    assertThat(b.matching().card()).isEqualTo(Ast.Matching.Card.MANY_TO_ONE);
    assertThat(b.matching().labels()).containsExactly("job");
    assertThat(b.matching().include()).containsExactly("instance");
    Ast.Aggregate a = (Ast.Aggregate) Parser.parse("sum(x) without (instance)");
    assertThat(a.without()).isTrue();
    assertThat(a.grouping()).containsExactly("instance");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "rate(x)|parse error at char 1: expected type range vector in call to function \"rate\", got instant vector",
        "sum(x|parse error at char 6: unexpected end of input, expected \")\"",
        "x{a=\"b\"|parse error at char 8: unexpected end of input in label matching, expected \",\" or \"}\"",
        "foo(x)|parse error at char 1: unknown function with name \"foo\"",
        "1 > 2|parse error at char 3: comparisons between scalars must use BOOL modifier",
        "x[5m] + 1|parse error at char 7: binary expression must contain only scalar and instant vector types",
        "{a=~\".*\"}|parse error at char 1: vector selector must contain at least one non-empty matcher",
        "x{a=~\"(\"}|parse error at char 6: invalid regular expression '(': missing closing )",
        "1 and 2|parse error at char 3: set operator \"and\" not allowed in binary scalar expression",
        // found by FuzzTest: a number token that is no number was a NumberFormatException (a 500)
        "x @ 1.2.3|parse error at char 5: bad number or duration syntax: \"1.2.3\"",
        "1.2.3 + 1|parse error at char 1: bad number or duration syntax: \"1.2.3\"",
      })
  void badQueries_sayWhereAndWhat(String q, String message) {
    assertThatThrownBy(() -> Parser.parse(q))
        .isInstanceOf(ParseException.class)
        .hasMessage(message);
  }
}
