package dev.pilothouse.core.alerting.template;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Parses Go text/template syntax (the parts alert templates use) into a {@link Tree}. */
final class Parser {
  private final String src;
  private final Set<String> functions;
  private int pos;
  private int line = 1;

  /** One {{action}}: its tokens and the line it starts on. */
  private record ActionTokens(List<String> tokens, int line) {}

  private final List<Object> items = new ArrayList<>(); // String text or ActionTokens
  private int next;

  Parser(String src, Set<String> functions) {
    this.src = src;
    this.functions = functions;
  }

  List<Tree.Node> parse() {
    lex();
    List<Tree.Node> body = new ArrayList<>();
    ActionTokens end = list(body);
    if (end != null) {
      throw error(end.line(), "unexpected {{" + end.tokens().get(0) + "}}");
    }
    return body;
  }

  private TemplateException error(int at, String message) {
    return new TemplateException("line " + at + ": " + message);
  }

  // ---- lexing: text and actions

  private void lex() {
    StringBuilder text = new StringBuilder();
    while (pos < src.length()) {
      int open = src.indexOf("{{", pos);
      if (open < 0) {
        text.append(src, pos, src.length());
        pos = src.length();
        break;
      }
      text.append(src, pos, open);
      countLines(pos, open);
      int p = open + 2;
      if (src.startsWith("- ", p) || src.startsWith("-\t", p) || src.startsWith("-\n", p)) {
        int k = text.length();
        while (k > 0 && Character.isWhitespace(text.charAt(k - 1))) {
          k--;
        }
        text.setLength(k);
        p += 1;
      }
      addText(text);
      int actionLine = line;
      // a comment
      int q = p;
      while (q < src.length() && Character.isWhitespace(src.charAt(q))) {
        q++;
      }
      if (src.startsWith("/*", q)) {
        int close = src.indexOf("*/", q + 2);
        if (close < 0) {
          throw error(actionLine, "unclosed comment");
        }
        int after = close + 2;
        boolean trim = false;
        while (after < src.length() && Character.isWhitespace(src.charAt(after))) {
          after++;
        }
        if (src.startsWith("-}}", after)) {
          trim = true;
          after += 1;
        }
        if (!src.startsWith("}}", after)) {
          throw error(actionLine, "comment ends before closing delimiter");
        }
        countLines(p, after + 2);
        pos = after + 2;
        if (trim) {
          skipSpace();
        }
        continue;
      }
      List<String> tokens = new ArrayList<>();
      pos = p;
      boolean trimAfter = tokens(tokens, actionLine);
      items.add(new ActionTokens(tokens, actionLine));
      if (trimAfter) {
        skipSpace();
      }
    }
    addText(text);
  }

  private void skipSpace() {
    while (pos < src.length() && Character.isWhitespace(src.charAt(pos))) {
      if (src.charAt(pos) == '\n') {
        line++;
      }
      pos++;
    }
  }

  private void countLines(int from, int to) {
    for (int i = from; i < to; i++) {
      if (src.charAt(i) == '\n') {
        line++;
      }
    }
  }

  private void addText(StringBuilder text) {
    if (!text.isEmpty()) {
      items.add(text.toString());
      text.setLength(0);
    }
  }

  /** Reads an action's tokens up to its closing delimiter; whether it trims what follows. */
  private boolean tokens(List<String> out, int at) {
    while (true) {
      if (pos >= src.length()) {
        throw error(at, "unclosed action");
      }
      char c = src.charAt(pos);
      if (src.startsWith(" -}}", pos)) {
        pos += 4;
        return true;
      }
      if (src.startsWith("}}", pos)) {
        pos += 2;
        return false;
      }
      if (c == '\n') {
        line++;
        pos++;
      } else if (Character.isWhitespace(c)) {
        pos++;
      } else if (c == '"') {
        int start = pos++;
        while (pos < src.length() && src.charAt(pos) != '"') {
          if (src.charAt(pos) == '\\') {
            pos++;
          }
          if (pos < src.length() && src.charAt(pos) == '\n') {
            throw error(at, "unterminated quoted string");
          }
          pos++;
        }
        if (pos >= src.length()) {
          throw error(at, "unterminated quoted string");
        }
        out.add(src.substring(start, ++pos));
      } else if (c == '`') {
        int close = src.indexOf('`', pos + 1);
        if (close < 0) {
          throw error(at, "unterminated raw quoted string");
        }
        countLines(pos, close);
        out.add(src.substring(pos, close + 1));
        pos = close + 1;
      } else if (c == ':' && src.startsWith(":=", pos)) {
        out.add(":=");
        pos += 2;
      } else if ("|(),=".indexOf(c) >= 0) {
        out.add(String.valueOf(c));
        pos++;
      } else {
        int start = pos;
        while (pos < src.length()) {
          char d = src.charAt(pos);
          if (Character.isWhitespace(d) || "|(),\"`".indexOf(d) >= 0 || src.startsWith("}}", pos)) {
            break;
          }
          if (d == ':' && src.startsWith(":=", pos)) {
            break;
          }
          if (d == '=' && pos > start) {
            break;
          }
          pos++;
        }
        if (pos == start) {
          throw error(at, "unexpected '" + c + "' in command");
        }
        out.add(src.substring(start, pos));
      }
    }
  }

  // ---- parsing: nodes

  /** Parses nodes into body up to {{else…}} or {{end}}; returns that action, or null at the end. */
  private ActionTokens list(List<Tree.Node> body) {
    while (next < items.size()) {
      Object item = items.get(next++);
      if (item instanceof String s) {
        body.add(new Tree.Text(s));
        continue;
      }
      ActionTokens a = (ActionTokens) item;
      List<String> t = a.tokens();
      if (t.isEmpty()) {
        throw error(a.line(), "missing value for command");
      }
      switch (t.get(0)) {
        case "end" -> {
          if (t.size() > 1) {
            throw error(a.line(), "unexpected " + t.get(1) + " in end");
          }
          return a;
        }
        case "else" -> {
          return a;
        }
        case "if", "range", "with" -> body.add(block(t.get(0), t.subList(1, t.size()), a.line()));
        case "define", "template", "block", "break", "continue" ->
            throw error(a.line(), "{{" + t.get(0) + "}} is not supported in alert templates");
        default -> body.add(new Tree.Action(pipe(t, a.line()), a.line()));
      }
    }
    return null;
  }

  private Tree.Node block(String kind, List<String> tokens, int at) {
    if (tokens.isEmpty()) {
      throw error(at, "missing value for " + kind);
    }
    Tree.Pipe p = pipe(tokens, at);
    List<Tree.Node> body = new ArrayList<>();
    ActionTokens end = list(body);
    if (end == null) {
      throw error(at, "unexpected EOF: {{" + kind + "}} without {{end}}");
    }
    List<Tree.Node> otherwise = new ArrayList<>();
    List<String> et = end.tokens();
    if (et.get(0).equals("else")) {
      if (et.size() > 1) {
        // {{else if …}} / {{else with …}}: a nested block that shares this one's {{end}}.
        if (!et.get(1).equals(kind) || kind.equals("range")) {
          throw error(end.line(), "unexpected " + et.get(1) + " after {{else}}");
        }
        otherwise.add(block(kind, et.subList(2, et.size()), end.line()));
        return make(kind, p, body, otherwise, at);
      }
      ActionTokens end2 = list(otherwise);
      if (end2 == null || !end2.tokens().get(0).equals("end")) {
        throw error(end.line(), "expected {{end}} after {{else}}");
      }
    }
    return make(kind, p, body, otherwise, at);
  }

  private static Tree.Node make(
      String kind, Tree.Pipe p, List<Tree.Node> body, List<Tree.Node> otherwise, int at) {
    return switch (kind) {
      case "if" -> new Tree.If(p, body, otherwise, at);
      case "range" -> new Tree.Range(p, body, otherwise, at);
      default -> new Tree.With(p, body, otherwise, at);
    };
  }

  private int t;
  private List<String> toks;

  private Tree.Pipe pipe(List<String> tokens, int at) {
    List<String> saved = toks;
    int savedT = t;
    toks = tokens;
    t = 0;
    try {
      Tree.Pipe p = pipeline(at);
      if (t < toks.size()) {
        throw error(at, "unexpected \"" + toks.get(t) + "\" in operand");
      }
      return p;
    } finally {
      toks = saved;
      t = savedT;
    }
  }

  private Tree.Pipe pipeline(int at) {
    List<String> vars = new ArrayList<>();
    boolean assign = false;
    // $x := / $x = / $k, $v :=
    int look = t;
    List<String> declared = new ArrayList<>();
    while (look < toks.size() && toks.get(look).startsWith("$") && !toks.get(look).contains(".")) {
      declared.add(toks.get(look));
      look++;
      if (look < toks.size() && toks.get(look).equals(",")) {
        look++;
        continue;
      }
      break;
    }
    if (!declared.isEmpty()
        && look < toks.size()
        && (toks.get(look).equals(":=") || toks.get(look).equals("="))) {
      vars.addAll(declared);
      assign = toks.get(look).equals("=");
      t = look + 1;
    }
    List<Tree.Cmd> cmds = new ArrayList<>();
    while (true) {
      cmds.add(command(at));
      if (t < toks.size() && toks.get(t).equals("|")) {
        t++;
        continue;
      }
      break;
    }
    return new Tree.Pipe(vars, assign, cmds);
  }

  private Tree.Cmd command(int at) {
    List<Tree.Arg> args = new ArrayList<>();
    while (t < toks.size() && !toks.get(t).equals("|") && !toks.get(t).equals(")")) {
      args.add(operand(at));
    }
    if (args.isEmpty()) {
      throw error(at, "missing value for command");
    }
    if (args.size() > 1 && !(args.get(0) instanceof Tree.Func)) {
      throw error(at, "can't give argument to non-function " + describe(args.get(0)));
    }
    return new Tree.Cmd(args);
  }

  private static String describe(Tree.Arg a) {
    return switch (a) {
      case Tree.Field f -> "." + String.join(".", f.path());
      case Tree.Var v -> v.name() + (v.path().isEmpty() ? "" : "." + String.join(".", v.path()));
      case Tree.Literal l -> String.valueOf(l.value());
      case Tree.Func f -> f.name();
      case Tree.Sub s -> "(…)";
    };
  }

  private Tree.Arg operand(int at) {
    String tok = toks.get(t++);
    if (tok.equals("(")) {
      Tree.Pipe p = pipeline(at);
      if (t >= toks.size() || !toks.get(t).equals(")")) {
        throw error(at, "unclosed left paren");
      }
      t++;
      List<String> path = List.of();
      if (t < toks.size() && toks.get(t).startsWith(".") && toks.get(t).length() > 1) {
        path = fields(toks.get(t++).substring(1), at);
      }
      return new Tree.Sub(p, path);
    }
    if (tok.equals(")") || tok.equals(",") || tok.equals(":=") || tok.equals("=")) {
      throw error(at, "unexpected \"" + tok + "\" in operand");
    }
    if (tok.startsWith("\"")) {
      return new Tree.Literal(Exec.unquote(tok, () -> error(at, "bad string " + tok)));
    }
    if (tok.startsWith("`")) {
      return new Tree.Literal(tok.substring(1, tok.length() - 1));
    }
    if (tok.equals(".")) {
      return new Tree.Field(List.of());
    }
    if (tok.startsWith(".")) {
      return new Tree.Field(fields(tok.substring(1), at));
    }
    if (tok.startsWith("$")) {
      int dot = tok.indexOf('.');
      String name = dot < 0 ? tok : tok.substring(0, dot);
      return new Tree.Var(name, dot < 0 ? List.of() : fields(tok.substring(dot + 1), at));
    }
    if (tok.equals("true") || tok.equals("false")) {
      return new Tree.Literal(Boolean.parseBoolean(tok));
    }
    if (tok.equals("nil")) {
      throw error(at, "nil is not a command");
    }
    char c = tok.charAt(0);
    if (Character.isDigit(c) || c == '-' || c == '+' || c == '.') {
      return new Tree.Literal(number(tok, at));
    }
    if (Character.isLetter(c) || c == '_') {
      if (!functions.contains(tok)) {
        throw error(at, "function \"" + tok + "\" not defined");
      }
      return new Tree.Func(tok);
    }
    throw error(at, "unexpected \"" + tok + "\" in operand");
  }

  private List<String> fields(String s, int at) {
    List<String> out = List.of(s.split("\\.", -1));
    for (String f : out) {
      if (f.isEmpty() || !f.matches("[A-Za-z_][A-Za-z0-9_]*")) {
        throw error(at, "bad field name '" + s + "'");
      }
    }
    return out;
  }

  private Object number(String tok, int at) {
    try {
      if (tok.matches("[-+]?\\d+")) {
        return Long.parseLong(tok);
      }
      if (tok.matches("[-+]?0[xX][0-9a-fA-F]+")) {
        boolean neg = tok.startsWith("-");
        String hex = tok.replaceFirst("^[-+]?0[xX]", "");
        long v = Long.parseLong(hex, 16);
        return neg ? -v : v;
      }
      return Double.parseDouble(tok);
    } catch (NumberFormatException e) {
      throw error(at, "bad number syntax: \"" + tok + "\"");
    }
  }
}
