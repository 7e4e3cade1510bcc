package dev.pilothouse.tsdb.promql;

import java.util.ArrayList;
import java.util.List;

/** Splits PromQL text into tokens. */
final class Lexer {
  enum Kind {
    IDENT,
    NUMBER,
    DURATION,
    STRING,
    OP,
    LPAREN,
    RPAREN,
    LBRACE,
    RBRACE,
    LBRACKET,
    RBRACKET,
    COMMA,
    COLON,
    AT,
    EOF
  }

  record Token(Kind kind, String text, int pos) {
    boolean is(Kind k, String t) {
      return kind == k && text.equals(t);
    }

    boolean isOp(String t) {
      return kind == Kind.OP && text.equals(t);
    }
  }

  private final String s;
  private int i;

  private Lexer(String s) {
    this.s = s;
  }

  static List<Token> lex(String text) {
    Lexer l = new Lexer(text);
    List<Token> out = new ArrayList<>();
    Token t;
    do {
      t = l.next(out.isEmpty() ? null : out.get(out.size() - 1));
      out.add(t);
    } while (t.kind() != Kind.EOF);
    return out;
  }

  private Token next(Token prev) {
    while (i < s.length()) {
      char c = s.charAt(i);
      if (c == '#') {
        while (i < s.length() && s.charAt(i) != '\n') {
          i++;
        }
      } else if (Character.isWhitespace(c)) {
        i++;
      } else {
        break;
      }
    }
    if (i >= s.length()) {
      return new Token(Kind.EOF, "", i);
    }
    int start = i;
    char c = s.charAt(i);
    switch (c) {
      case '(' -> {
        i++;
        return new Token(Kind.LPAREN, "(", start);
      }
      case ')' -> {
        i++;
        return new Token(Kind.RPAREN, ")", start);
      }
      case '{' -> {
        i++;
        return new Token(Kind.LBRACE, "{", start);
      }
      case '}' -> {
        i++;
        return new Token(Kind.RBRACE, "}", start);
      }
      case '[' -> {
        i++;
        return new Token(Kind.LBRACKET, "[", start);
      }
      case ']' -> {
        i++;
        return new Token(Kind.RBRACKET, "]", start);
      }
      case ',' -> {
        i++;
        return new Token(Kind.COMMA, ",", start);
      }
      case ':' -> {
        i++;
        return new Token(Kind.COLON, ":", start);
      }
      case '@' -> {
        i++;
        return new Token(Kind.AT, "@", start);
      }
      case '"', '\'', '`' -> {
        return new Token(Kind.STRING, string(c), start);
      }
      default -> {}
    }
    String two = i + 1 < s.length() ? s.substring(i, i + 2) : "";
    for (String op : List.of("==", "!=", ">=", "<=", "=~", "!~")) {
      if (two.equals(op)) {
        i += 2;
        return new Token(Kind.OP, op, start);
      }
    }
    if ("+-*/%^<>=".indexOf(c) >= 0) {
      i++;
      return new Token(Kind.OP, String.valueOf(c), start);
    }
    boolean inBrackets =
        prev != null && (prev.kind() == Kind.LBRACKET || prev.kind() == Kind.COLON);
    if (Character.isDigit(c)
        || (c == '.' && i + 1 < s.length() && Character.isDigit(s.charAt(i + 1)))) {
      int end = durationEnd(i);
      if (end > i) {
        i = end;
        return new Token(Kind.DURATION, s.substring(start, end), start);
      }
      i = numberEnd(i);
      return new Token(Kind.NUMBER, s.substring(start, i), start);
    }
    if (Character.isLetter(c) || c == '_' || c == ':') {
      while (i < s.length()
          && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_' || s.charAt(i) == ':')) {
        i++;
      }
      String word = s.substring(start, i);
      return new Token(Kind.IDENT, word, start);
    }
    if (inBrackets) {
      throw new ParseException(start, "unexpected character in duration: '" + c + "'");
    }
    throw new ParseException(start, "unexpected character: '" + c + "'");
  }

  /** End of a duration such as 5m, 1h30m, 100ms starting at from, or from when none. */
  private int durationEnd(int from) {
    int j = from;
    boolean any = false;
    while (j < s.length() && Character.isDigit(s.charAt(j))) {
      int k = j;
      while (k < s.length() && Character.isDigit(s.charAt(k))) {
        k++;
      }
      int unit = unitLength(k);
      if (unit == 0) {
        return any ? j : from;
      }
      any = true;
      j = k + unit;
    }
    if (any && j < s.length() && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '.')) {
      return from; // e.g. 1e5 is a number
    }
    return any ? j : from;
  }

  private int unitLength(int k) {
    if (k >= s.length()) {
      return 0;
    }
    if (s.startsWith("ms", k)) {
      return 2;
    }
    char u = s.charAt(k);
    if ("smhdwy".indexOf(u) >= 0) {
      if (u == 'm' && k + 1 < s.length() && s.charAt(k + 1) == 's') {
        return 2;
      }
      return 1;
    }
    return 0;
  }

  private int numberEnd(int from) {
    int j = from;
    if (s.startsWith("0x", j) || s.startsWith("0X", j)) {
      j += 2;
      while (j < s.length() && Character.digit(s.charAt(j), 16) >= 0) {
        j++;
      }
      return j;
    }
    while (j < s.length() && (Character.isDigit(s.charAt(j)) || s.charAt(j) == '.')) {
      j++;
    }
    if (j < s.length() && (s.charAt(j) == 'e' || s.charAt(j) == 'E')) {
      int k = j + 1;
      if (k < s.length() && (s.charAt(k) == '+' || s.charAt(k) == '-')) {
        k++;
      }
      if (k < s.length() && Character.isDigit(s.charAt(k))) {
        j = k;
        while (j < s.length() && Character.isDigit(s.charAt(j))) {
          j++;
        }
      }
    }
    return j;
  }

  private String string(char quote) {
    int start = i;
    i++;
    StringBuilder b = new StringBuilder();
    while (i < s.length()) {
      char c = s.charAt(i);
      if (c == quote) {
        i++;
        return b.toString();
      }
      if (c == '\\' && quote != '`') {
        i++;
        if (i >= s.length()) {
          break;
        }
        char e = s.charAt(i);
        switch (e) {
          case 'n' -> b.append('\n');
          case 't' -> b.append('\t');
          case 'r' -> b.append('\r');
          case '\\' -> b.append('\\');
          case '"' -> b.append('"');
          case '\'' -> b.append('\'');
          case 'a' -> b.append((char) 7);
          case 'b' -> b.append('\b');
          case 'f' -> b.append('\f');
          case 'v' -> b.append((char) 11);
          case 'x' -> {
            b.append((char) Integer.parseInt(s.substring(i + 1, i + 3), 16));
            i += 2;
          }
          case 'u' -> {
            b.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
            i += 4;
          }
          default -> throw new ParseException(i, "unknown escape sequence '\\" + e + "'");
        }
        i++;
        continue;
      }
      b.append(c);
      i++;
    }
    throw new ParseException(start, "unterminated quoted string");
  }
}
