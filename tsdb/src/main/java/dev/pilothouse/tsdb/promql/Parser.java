package dev.pilothouse.tsdb.promql;

import dev.pilothouse.tsdb.Labels;
import dev.pilothouse.tsdb.Matcher;
import dev.pilothouse.tsdb.promql.Lexer.Kind;
import dev.pilothouse.tsdb.promql.Lexer.Token;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** Parses and type-checks PromQL into an {@link Ast.Expr}. */
public final class Parser {
  static final Set<String> AGGREGATIONS =
      Set.of(
          "sum",
          "avg",
          "min",
          "max",
          "count",
          "group",
          "stddev",
          "stdvar",
          "topk",
          "bottomk",
          "quantile",
          "count_values");
  private static final Set<String> PARAM_AGGREGATIONS =
      Set.of("topk", "bottomk", "quantile", "count_values");
  private static final Set<String> COMPARISONS = Set.of("==", "!=", ">", "<", ">=", "<=");
  private static final Set<String> SET_OPS = Set.of("and", "or", "unless");

  private final List<Token> tokens;
  private int p;

  private Parser(List<Token> tokens) {
    this.tokens = tokens;
  }

  /** Parses a query; throws {@link ParseException} naming the position of the first problem. */
  public static Ast.Expr parse(String query) {
    Parser ps = new Parser(Lexer.lex(query));
    if (ps.peek().kind() == Kind.EOF) {
      throw new ParseException(0, "no expression found in input");
    }
    Ast.Expr e = ps.expr(0);
    if (ps.peek().kind() != Kind.EOF) {
      throw new ParseException(ps.peek().pos(), "unexpected " + describe(ps.peek()));
    }
    return e;
  }

  private Token peek() {
    return tokens.get(p);
  }

  private Token next() {
    return tokens.get(p++);
  }

  private Token expect(Kind k, String what) {
    Token t = next();
    if (t.kind() != k) {
      throw new ParseException(t.pos(), "unexpected " + describe(t) + ", expected " + what);
    }
    return t;
  }

  private static String describe(Token t) {
    return switch (t.kind()) {
      case EOF -> "end of input";
      case IDENT -> "identifier \"" + t.text() + "\"";
      case NUMBER -> "number \"" + t.text() + "\"";
      case DURATION -> "duration \"" + t.text() + "\"";
      case STRING -> "string \"" + t.text() + "\"";
      default -> "\"" + t.text() + "\"";
    };
  }

  /** Binary operator precedence, or -1 when t is not a binary operator. */
  private static int precedence(Token t) {
    if (t.kind() == Kind.OP) {
      return switch (t.text()) {
        case "^" -> 6;
        case "*", "/", "%" -> 5;
        case "+", "-" -> 4;
        case "==", "!=", "<", ">", "<=", ">=" -> 3;
        default -> -1;
      };
    }
    if (t.kind() == Kind.IDENT) {
      return switch (t.text().toLowerCase(Locale.ROOT)) {
        case "atan2" -> 5;
        case "and", "unless" -> 2;
        case "or" -> 1;
        default -> -1;
      };
    }
    return -1;
  }

  private Ast.Expr expr(int minPrec) {
    Ast.Expr lhs = unary();
    while (true) {
      Token op = peek();
      int prec = precedence(op);
      if (prec < 0 || prec < minPrec) {
        return lhs;
      }
      next();
      String opText = op.kind() == Kind.IDENT ? op.text().toLowerCase(Locale.ROOT) : op.text();
      boolean returnBool = false;
      if (peek().kind() == Kind.IDENT && peek().text().equalsIgnoreCase("bool")) {
        if (!COMPARISONS.contains(opText)) {
          throw new ParseException(
              peek().pos(), "bool modifier can only be used on comparison operators");
        }
        next();
        returnBool = true;
      }
      Ast.Matching matching = matching(opText);
      // ^ is right-associative; all others are left-associative.
      Ast.Expr rhs = expr(opText.equals("^") ? prec : prec + 1);
      lhs = binary(op, opText, lhs, rhs, returnBool, matching);
    }
  }

  private Ast.Matching matching(String op) {
    Ast.Matching.Card card =
        SET_OPS.contains(op) ? Ast.Matching.Card.MANY_TO_MANY : Ast.Matching.Card.ONE_TO_ONE;
    Token t = peek();
    if (t.kind() != Kind.IDENT
        || !(t.text().equalsIgnoreCase("on") || t.text().equalsIgnoreCase("ignoring"))) {
      return new Ast.Matching(card, List.of(), false, List.of());
    }
    next();
    boolean on = t.text().equalsIgnoreCase("on");
    List<String> labels = labelList();
    List<String> include = List.of();
    Token g = peek();
    if (g.kind() == Kind.IDENT
        && (g.text().equalsIgnoreCase("group_left") || g.text().equalsIgnoreCase("group_right"))) {
      if (SET_OPS.contains(op)) {
        throw new ParseException(g.pos(), "no grouping allowed for \"" + op + "\" operation");
      }
      next();
      card =
          g.text().equalsIgnoreCase("group_left")
              ? Ast.Matching.Card.MANY_TO_ONE
              : Ast.Matching.Card.ONE_TO_MANY;
      if (peek().kind() == Kind.LPAREN) {
        include = labelList();
      }
    }
    return new Ast.Matching(card, labels, on, include);
  }

  private List<String> labelList() {
    expect(Kind.LPAREN, "\"(\"");
    List<String> out = new ArrayList<>();
    if (peek().kind() == Kind.RPAREN) {
      next();
      return out;
    }
    while (true) {
      Token t = next();
      if (t.kind() != Kind.IDENT) {
        throw new ParseException(
            t.pos(), "unexpected " + describe(t) + " in grouping opts, expected label");
      }
      out.add(t.text());
      Token sep = next();
      if (sep.kind() == Kind.RPAREN) {
        return out;
      }
      if (sep.kind() != Kind.COMMA) {
        throw new ParseException(
            sep.pos(),
            "unexpected " + describe(sep) + " in grouping opts, expected \",\" or \")\"");
      }
      if (peek().kind() == Kind.RPAREN) {
        next();
        return out;
      }
    }
  }

  private Ast.Expr binary(
      Token at, String op, Ast.Expr lhs, Ast.Expr rhs, boolean returnBool, Ast.Matching m) {
    for (Ast.Expr side : List.of(lhs, rhs)) {
      if (side.type() != Ast.Type.SCALAR && side.type() != Ast.Type.VECTOR) {
        throw new ParseException(
            at.pos(), "binary expression must contain only scalar and instant vector types");
      }
    }
    boolean bothScalar = lhs.type() == Ast.Type.SCALAR && rhs.type() == Ast.Type.SCALAR;
    if (SET_OPS.contains(op) && (lhs.type() == Ast.Type.SCALAR || rhs.type() == Ast.Type.SCALAR)) {
      throw new ParseException(
          at.pos(), "set operator \"" + op + "\" not allowed in binary scalar expression");
    }
    if (COMPARISONS.contains(op) && bothScalar && !returnBool) {
      throw new ParseException(at.pos(), "comparisons between scalars must use BOOL modifier");
    }
    boolean hasMatching =
        !m.labels().isEmpty() || m.on() || m.card() != Ast.Matching.Card.ONE_TO_ONE;
    if ((lhs.type() == Ast.Type.SCALAR || rhs.type() == Ast.Type.SCALAR)
        && hasMatching
        && m.card() != Ast.Matching.Card.MANY_TO_MANY) {
      throw new ParseException(at.pos(), "vector matching only allowed between instant vectors");
    }
    return new Ast.Binary(op, lhs, rhs, returnBool, m);
  }

  private Ast.Expr unary() {
    Token t = peek();
    if (t.isOp("-") || t.isOp("+")) {
      next();
      Ast.Expr e = expr(6); // only ^ binds tighter: -a^b is -(a^b), -a*b is (-a)*b
      if (e.type() != Ast.Type.SCALAR && e.type() != Ast.Type.VECTOR) {
        throw new ParseException(
            t.pos(),
            "unary expression only allowed on expressions of type scalar or instant vector, got \""
                + e.type().describe()
                + "\"");
      }
      if (t.isOp("+")) {
        return e;
      }
      if (e instanceof Ast.NumberLit n) {
        return new Ast.NumberLit(-n.value());
      }
      return new Ast.Unary("-", e);
    }
    return postfix(primary());
  }

  private Ast.Expr postfix(Ast.Expr e) {
    while (true) {
      Token t = peek();
      if (t.kind() == Kind.LBRACKET) {
        e = range(e);
      } else if (t.kind() == Kind.IDENT && t.text().equalsIgnoreCase("offset")) {
        next();
        boolean neg = false;
        if (peek().isOp("-")) {
          next();
          neg = true;
        }
        long d = duration(expect(Kind.DURATION, "duration"));
        e = withTime(t, e, d * (neg ? -1 : 1), null);
      } else if (t.kind() == Kind.AT) {
        next();
        Token v = next();
        Ast.Time at;
        if (v.kind() == Kind.IDENT && (v.text().equals("start") || v.text().equals("end"))) {
          expect(Kind.LPAREN, "\"(\"");
          expect(Kind.RPAREN, "\")\"");
          at = new Ast.Time(0, null, v.text().equals("start"), v.text().equals("end"));
        } else {
          boolean neg = false;
          if (v.isOp("-")) {
            neg = true;
            v = next();
          }
          if (v.kind() != Kind.NUMBER && v.kind() != Kind.DURATION) {
            throw new ParseException(
                v.pos(), "unexpected " + describe(v) + " in @, expected timestamp");
          }
          double secs = number(v) * (neg ? -1 : 1);
          if (!(Math.abs(secs * 1000) <= Engine.MAX_TIME_MS)) {
            throw new ParseException(v.pos(), "timestamp out of bounds for @ modifier: " + secs);
          }
          at = new Ast.Time(0, Math.round(secs * 1000), false, false);
        }
        e = withTime(t, e, Long.MIN_VALUE, at);
      } else {
        return e;
      }
    }
  }

  /** Applies an offset (or, with at, an @) to a selector or subquery. */
  private Ast.Expr withTime(Token at, Ast.Expr e, long offset, Ast.Time atTime) {
    Ast.Time old;
    if (e instanceof Ast.VectorSelector v) {
      old = v.time();
    } else if (e instanceof Ast.MatrixSelector m) {
      old = m.selector().time();
    } else if (e instanceof Ast.Subquery s) {
      old = s.time();
    } else {
      throw new ParseException(
          at.pos(),
          (atTime == null ? "offset" : "@ modifier")
              + " modifier must be preceded by an instant vector selector or range vector selector or a subquery");
    }
    Ast.Time nt;
    if (atTime == null) {
      if (old.offsetMs() != 0) {
        throw new ParseException(at.pos(), "offset may not be set multiple times");
      }
      nt = new Ast.Time(offset, old.at(), old.atStart(), old.atEnd());
    } else {
      if (old.hasAt()) {
        throw new ParseException(at.pos(), "@ <timestamp> may not be set multiple times");
      }
      nt = new Ast.Time(old.offsetMs(), atTime.at(), atTime.atStart(), atTime.atEnd());
    }
    if (e instanceof Ast.VectorSelector v) {
      return new Ast.VectorSelector(v.name(), v.matchers(), nt);
    } else if (e instanceof Ast.MatrixSelector m) {
      return new Ast.MatrixSelector(
          new Ast.VectorSelector(m.selector().name(), m.selector().matchers(), nt), m.rangeMs());
    }
    Ast.Subquery s = (Ast.Subquery) e;
    return new Ast.Subquery(s.expr(), s.rangeMs(), s.stepMs(), nt);
  }

  private Ast.Expr range(Ast.Expr e) {
    Token open = next();
    long range = duration(expect(Kind.DURATION, "duration"));
    if (peek().kind() == Kind.COLON) {
      next();
      long step = 0;
      if (peek().kind() == Kind.DURATION) {
        step = duration(next());
      }
      expect(Kind.RBRACKET, "\"]\"");
      if (e.type() != Ast.Type.VECTOR) {
        throw new ParseException(
            open.pos(),
            "subquery is only allowed on instant vector, got " + e.type().describe() + " instead");
      }
      return new Ast.Subquery(e, range, step, Ast.Time.NONE);
    }
    expect(Kind.RBRACKET, "\"]\"");
    if (!(e instanceof Ast.VectorSelector v)) {
      throw new ParseException(open.pos(), "ranges only allowed for vector selectors");
    }
    if (v.time().offsetMs() != 0 || v.time().hasAt()) {
      throw new ParseException(
          open.pos(), "offset and @ must follow the range, e.g. x[5m] offset 1h");
    }
    return new Ast.MatrixSelector(v, range);
  }

  private Ast.Expr primary() {
    Token t = next();
    switch (t.kind()) {
      case NUMBER -> {
        return new Ast.NumberLit(number(t));
      }
      case DURATION -> {
        throw new ParseException(t.pos(), "unexpected " + describe(t));
      }
      case STRING -> {
        return new Ast.StringLit(t.text());
      }
      case LPAREN -> {
        Ast.Expr e = expr(0);
        expect(Kind.RPAREN, "\")\"");
        return new Ast.Paren(e);
      }
      case LBRACE -> {
        p--;
        return selector(null, t.pos());
      }
      case IDENT -> {
        return ident(t);
      }
      default -> throw new ParseException(t.pos(), "unexpected " + describe(t));
    }
  }

  private Ast.Expr ident(Token t) {
    String word = t.text();
    String lower = word.toLowerCase(Locale.ROOT);
    if ((lower.equals("inf") || lower.equals("nan"))
        && peek().kind() != Kind.LPAREN
        && peek().kind() != Kind.LBRACE) {
      return new Ast.NumberLit(lower.equals("inf") ? Double.POSITIVE_INFINITY : Double.NaN);
    }
    if (AGGREGATIONS.contains(lower)
        && (peek().kind() == Kind.LPAREN
            || (peek().kind() == Kind.IDENT
                && (peek().text().equalsIgnoreCase("by")
                    || peek().text().equalsIgnoreCase("without"))))) {
      return aggregate(t, lower);
    }
    if (peek().kind() == Kind.LPAREN) {
      Functions.Def f = Functions.get(word);
      if (f == null) {
        throw new ParseException(t.pos(), "unknown function with name \"" + word + "\"");
      }
      return call(t, f);
    }
    return selector(word, t.pos());
  }

  private Ast.Expr call(Token at, Functions.Def f) {
    expect(Kind.LPAREN, "\"(\"");
    List<Ast.Expr> args = new ArrayList<>();
    if (peek().kind() != Kind.RPAREN) {
      while (true) {
        args.add(expr(0));
        if (peek().kind() == Kind.COMMA) {
          next();
          continue;
        }
        break;
      }
    }
    expect(Kind.RPAREN, "\")\"");
    int n = f.args().size();
    int min = f.variadic() ? n - 1 : n - f.optional();
    int max = f.variadic() ? Integer.MAX_VALUE : n;
    if (args.size() < min || args.size() > max) {
      throw new ParseException(
          at.pos(),
          "expected "
              + (min == max ? Integer.toString(min) : "at least " + min)
              + " argument(s) in call to \""
              + f.name()
              + "\", got "
              + args.size());
    }
    for (int i = 0; i < args.size(); i++) {
      Ast.Type want = f.args().get(Math.min(i, n - 1));
      Ast.Type got = args.get(i).type();
      if (got != want) {
        throw new ParseException(
            at.pos(),
            "expected type "
                + want.describe()
                + " in call to function \""
                + f.name()
                + "\", got "
                + got.describe());
      }
    }
    return new Ast.Call(f, args);
  }

  private Ast.Expr aggregate(Token at, String op) {
    List<String> grouping = List.of();
    boolean without = false;
    boolean groupingSeen = false;
    if (peek().kind() == Kind.IDENT) {
      without = next().text().equalsIgnoreCase("without");
      grouping = labelList();
      groupingSeen = true;
    }
    expect(Kind.LPAREN, "\"(\"");
    Ast.Expr param = null;
    if (PARAM_AGGREGATIONS.contains(op)) {
      param = expr(0);
      expect(Kind.COMMA, "\",\"");
    }
    Ast.Expr e = expr(0);
    expect(Kind.RPAREN, "\")\"");
    if (!groupingSeen
        && peek().kind() == Kind.IDENT
        && (peek().text().equalsIgnoreCase("by") || peek().text().equalsIgnoreCase("without"))) {
      without = next().text().equalsIgnoreCase("without");
      grouping = labelList();
    }
    if (e.type() != Ast.Type.VECTOR) {
      throw new ParseException(
          at.pos(),
          "expected type instant vector in aggregation expression, got " + e.type().describe());
    }
    if (param != null) {
      Ast.Type want = op.equals("count_values") ? Ast.Type.STRING : Ast.Type.SCALAR;
      if (param.type() != want) {
        throw new ParseException(
            at.pos(),
            "expected type "
                + want.describe()
                + " in aggregation parameter, got "
                + param.type().describe());
      }
    }
    return new Ast.Aggregate(op, e, param, List.copyOf(grouping), without);
  }

  private Ast.Expr selector(String name, int pos) {
    List<Matcher> ms = new ArrayList<>();
    if (name != null) {
      ms.add(Matcher.eq(Labels.NAME, name));
    }
    if (peek().kind() == Kind.LBRACE) {
      next();
      while (peek().kind() != Kind.RBRACE) {
        Token l = next();
        if (l.kind() != Kind.IDENT) {
          throw new ParseException(
              l.pos(), "unexpected " + describe(l) + " in label matching, expected label");
        }
        Token op = next();
        Matcher.Type type =
            switch (op.kind() == Kind.OP ? op.text() : "") {
              case "=" -> Matcher.Type.EQ;
              case "!=" -> Matcher.Type.NEQ;
              case "=~" -> Matcher.Type.RE;
              case "!~" -> Matcher.Type.NRE;
              default ->
                  throw new ParseException(
                      op.pos(),
                      "unexpected "
                          + describe(op)
                          + " in label matching, expected one of \"=\", \"!=\", \"=~\", \"!~\"");
            };
        Token v = expect(Kind.STRING, "string");
        try {
          ms.add(new Matcher(type, l.text(), v.text()));
        } catch (IllegalArgumentException e) {
          throw new ParseException(v.pos(), e.getMessage());
        }
        if (peek().kind() == Kind.COMMA) {
          next();
        } else if (peek().kind() != Kind.RBRACE) {
          throw new ParseException(
              peek().pos(),
              "unexpected " + describe(peek()) + " in label matching, expected \",\" or \"}\"");
        }
      }
      next();
    }
    if (name != null && ms.stream().filter(m -> m.name().equals(Labels.NAME)).count() > 1) {
      throw new ParseException(pos, "metric name must not be set twice: \"" + name + "\"");
    }
    if (ms.stream().allMatch(Matcher::matchesEmpty)) {
      throw new ParseException(pos, "vector selector must contain at least one non-empty matcher");
    }
    String metric = name;
    if (metric == null) {
      metric =
          ms.stream()
              .filter(m -> m.name().equals(Labels.NAME) && m.type() == Matcher.Type.EQ)
              .map(Matcher::value)
              .findFirst()
              .orElse("");
    }
    return new Ast.VectorSelector(metric, List.copyOf(ms), Ast.Time.NONE);
  }

  /** A number token's value; a token the lexer took for a number but is none is a parse error. */
  private static double number(Token token) {
    try {
      return number(token.text());
    } catch (IllegalArgumentException e) { // NumberFormatException, or a duration out of range
      throw new ParseException(
          token.pos(), "bad number or duration syntax: \"" + token.text() + "\"");
    }
  }

  static double number(String text) {
    String t = text.toLowerCase(Locale.ROOT);
    if (t.startsWith("0x")) {
      return Long.parseLong(t.substring(2), 16);
    }
    if (t.equals("inf") || t.equals("+inf")) {
      return Double.POSITIVE_INFINITY;
    }
    if (t.equals("nan")) {
      return Double.NaN;
    }
    if (isDuration(text)) {
      return duration(text) / 1000.0;
    }
    return Double.parseDouble(text);
  }

  private static boolean isDuration(String text) {
    return text.matches("(\\d+(ms|[smhdwy]))+");
  }

  private static long duration(Token t) {
    long d;
    try {
      d = duration(t.text());
    } catch (IllegalArgumentException e) {
      throw new ParseException(t.pos(), e.getMessage());
    }
    if (d <= 0) {
      throw new ParseException(t.pos(), "duration must be greater than 0");
    }
    return d;
  }

  /** What is wrong with a query, or null when it parses (for queries held in specs). */
  public static String problem(String query) {
    try {
      parse(query);
      return null;
    } catch (ParseException e) {
      return e.getMessage();
    }
  }

  /** The longest duration a query may name: about 292 years, as Prometheus's int64 nanoseconds. */
  public static final long MAX_DURATION_MS = Long.MAX_VALUE / 1_000_000;

  private static final java.util.regex.Pattern DURATION_PART =
      java.util.regex.Pattern.compile("(\\d+)(ms|[smhdwy])");

  /**
   * Milliseconds of a duration such as 5m or 1h30m (units ms, s, m, h, d, w, y).
   *
   * @throws IllegalArgumentException when it is longer than {@link #MAX_DURATION_MS}
   */
  public static long duration(String text) {
    java.util.regex.Matcher m = DURATION_PART.matcher(text);
    long total = 0;
    try {
      while (m.find()) {
        long v = Long.parseLong(m.group(1));
        long unit =
            switch (m.group(2)) {
              case "ms" -> 1;
              case "s" -> 1000;
              case "m" -> 60_000;
              case "h" -> 3_600_000;
              case "d" -> 86_400_000;
              case "w" -> 7 * 86_400_000L;
              default -> 365 * 86_400_000L;
            };
        total = Math.addExact(total, Math.multiplyExact(v, unit));
      }
    } catch (NumberFormatException | ArithmeticException e) {
      total = Long.MAX_VALUE;
    }
    if (total > MAX_DURATION_MS) {
      throw new IllegalArgumentException(
          "duration out of range: "
              + text
              + " is longer than "
              + MAX_DURATION_MS / 31_536_000_000L
              + " years");
    }
    return total;
  }
}
