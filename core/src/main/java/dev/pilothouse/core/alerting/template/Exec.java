package dev.pilothouse.core.alerting.template;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/** Runs a parsed template against its data as Go's text/template does. */
final class Exec {
  /** A map key that is not there: printed as Go prints it, "<no value>". */
  static final Object MISSING =
      new Object() {
        @Override
        public String toString() {
          return "<no value>";
        }
      };

  private final Functions functions;
  private final StringBuilder out = new StringBuilder();
  private final List<Map<String, Object>> scopes = new ArrayList<>();
  private int steps;

  /** A bound on the work one expansion may do (a range over a huge query result, say). */
  private static final int MAX_STEPS = 100_000;

  private static final int MAX_OUTPUT = 64 * 1024;

  Exec(Functions functions, Map<String, Object> vars) {
    this.functions = functions;
    scopes.add(new LinkedHashMap<>(vars));
  }

  String run(List<Tree.Node> body, Object dot) {
    walk(body, dot);
    return out.toString();
  }

  private void walk(List<Tree.Node> body, Object dot) {
    for (Tree.Node n : body) {
      if (++steps > MAX_STEPS) {
        throw new TemplateException("the template did more than " + MAX_STEPS + " steps");
      }
      switch (n) {
        case Tree.Text t -> append(t.text());
        case Tree.Action a -> {
          Object v = pipe(a.pipe(), dot, a.line());
          if (a.pipe().vars().isEmpty()) {
            append(GoFormat.print(v));
          }
        }
        case Tree.If i -> {
          scopes.add(new LinkedHashMap<>());
          try {
            walk(truth(pipe(i.cond(), dot, i.line())) ? i.then() : i.otherwise(), dot);
          } finally {
            scopes.remove(scopes.size() - 1);
          }
        }
        case Tree.With w -> {
          scopes.add(new LinkedHashMap<>());
          try {
            Object v = pipe(w.pipe(), dot, w.line());
            if (truth(v)) {
              walk(w.body(), v);
            } else {
              walk(w.otherwise(), dot);
            }
          } finally {
            scopes.remove(scopes.size() - 1);
          }
        }
        case Tree.Range r -> range(r, dot);
      }
    }
  }

  private void append(String s) {
    if (out.length() + s.length() > MAX_OUTPUT) {
      throw new TemplateException("the template's output is longer than 64 KiB");
    }
    out.append(s);
  }

  private void range(Tree.Range r, Object dot) {
    List<String> vars = r.pipe().vars();
    Tree.Pipe bare = new Tree.Pipe(List.of(), false, r.pipe().cmds());
    Object v = pipe(bare, dot, r.line());
    List<Object[]> pairs = new ArrayList<>(); // key, element
    if (v instanceof List<?> l) {
      for (int i = 0; i < l.size(); i++) {
        pairs.add(new Object[] {(long) i, l.get(i)});
      }
    } else if (v instanceof Map<?, ?> m) {
      new TreeMap<>(m).forEach((k, e) -> pairs.add(new Object[] {k, e}));
    } else if (v instanceof Long n) {
      for (long i = 0; i < n; i++) {
        pairs.add(new Object[] {i, i});
      }
    } else if (v != null && v != MISSING) {
      throw new TemplateException(
          "line " + r.line() + ": range can't iterate over " + GoFormat.print(v));
    }
    if (pairs.isEmpty()) {
      walk(r.otherwise(), dot);
      return;
    }
    for (Object[] p : pairs) {
      Map<String, Object> scope = new LinkedHashMap<>();
      if (vars.size() == 1) {
        scope.put(vars.get(0), p[1]);
      } else if (vars.size() == 2) {
        scope.put(vars.get(0), p[0]);
        scope.put(vars.get(1), p[1]);
      }
      scopes.add(scope);
      try {
        walk(r.body(), p[1]);
      } finally {
        scopes.remove(scopes.size() - 1);
      }
    }
  }

  private Object pipe(Tree.Pipe p, Object dot, int line) {
    Object v = null;
    boolean first = true;
    for (Tree.Cmd c : p.cmds()) {
      v = command(c, dot, line, first ? null : new Object[] {v});
      first = false;
    }
    if (!p.vars().isEmpty()) {
      String name = p.vars().get(p.vars().size() - 1);
      if (p.assign()) {
        for (int i = scopes.size() - 1; i >= 0; i--) {
          if (scopes.get(i).containsKey(name)) {
            scopes.get(i).put(name, v);
            return v;
          }
        }
        throw new TemplateException("line " + line + ": undefined variable: " + name);
      }
      scopes.get(scopes.size() - 1).put(name, v);
    }
    return v;
  }

  private Object command(Tree.Cmd c, Object dot, int line, Object[] piped) {
    Tree.Arg head = c.args().get(0);
    if (head instanceof Tree.Func f) {
      List<Object> args = new ArrayList<>();
      for (Tree.Arg a : c.args().subList(1, c.args().size())) {
        args.add(arg(a, dot, line));
      }
      if (piped != null) {
        args.add(piped[0]);
      }
      try {
        return functions.call(f.name(), args);
      } catch (TemplateException e) {
        throw new TemplateException(
            "line " + line + ": error calling " + f.name() + ": " + e.getMessage());
      }
    }
    if (piped != null) {
      throw new TemplateException("line " + line + ": can't give argument to non-function " + head);
    }
    return arg(head, dot, line);
  }

  private Object arg(Tree.Arg a, Object dot, int line) {
    return switch (a) {
      case Tree.Literal l -> l.value();
      case Tree.Field f -> path(dot, f.path(), line);
      case Tree.Var v -> path(variable(v.name(), line), v.path(), line);
      case Tree.Sub s -> path(pipe(s.pipe(), dot, line), s.path(), line);
      case Tree.Func f -> command(new Tree.Cmd(List.of(f)), dot, line, null);
    };
  }

  private Object variable(String name, int line) {
    if (name.equals("$")) {
      return scopes.get(0).get("$");
    }
    for (int i = scopes.size() - 1; i >= 0; i--) {
      if (scopes.get(i).containsKey(name)) {
        return scopes.get(i).get(name);
      }
    }
    throw new TemplateException("line " + line + ": undefined variable: " + name);
  }

  private static Object path(Object v, List<String> path, int line) {
    for (String f : path) {
      if (v instanceof Map<?, ?> m) {
        v = m.containsKey(f) ? m.get(f) : ""; // Prometheus runs templates with missingkey=zero
      } else if (v == MISSING || v == null) {
        throw new TemplateException(
            "line " + line + ": nil pointer evaluating ." + String.join(".", path));
      } else {
        throw new TemplateException(
            "line " + line + ": can't evaluate field " + f + " in " + GoFormat.print(v));
      }
    }
    return v;
  }

  /** Go's truth: false, zero, nil, and empty strings, maps and lists are false. */
  static boolean truth(Object v) {
    return switch (v) {
      case null -> false;
      case Boolean b -> b;
      case Long l -> l != 0;
      case Double d -> d != 0;
      case String s -> !s.isEmpty();
      case Map<?, ?> m -> !m.isEmpty();
      case List<?> l -> !l.isEmpty();
      default -> v != MISSING;
    };
  }

  /** A Go double-quoted string literal's value. */
  static String unquote(String tok, Supplier<TemplateException> bad) {
    StringBuilder sb = new StringBuilder();
    for (int i = 1; i < tok.length() - 1; i++) {
      char c = tok.charAt(i);
      if (c != '\\') {
        sb.append(c);
        continue;
      }
      if (++i >= tok.length() - 1) {
        throw bad.get();
      }
      char e = tok.charAt(i);
      switch (e) {
        case 'n' -> sb.append('\n');
        case 't' -> sb.append('\t');
        case 'r' -> sb.append('\r');
        case '\\' -> sb.append('\\');
        case '"' -> sb.append('"');
        case '\'' -> sb.append('\'');
        case 'a' -> sb.append('\u0007');
        case 'b' -> sb.append('\b');
        case 'f' -> sb.append('\f');
        case 'v' -> sb.append('\u000b');
        case 'x', 'u', 'U' -> {
          int len = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          if (i + len >= tok.length()) {
            throw bad.get();
          }
          try {
            sb.appendCodePoint(Integer.parseInt(tok.substring(i + 1, i + 1 + len), 16));
          } catch (IllegalArgumentException ex) {
            throw bad.get();
          }
          i += len;
        }
        default -> throw bad.get();
      }
    }
    return sb.toString();
  }

  /** Go's %q of a string. */
  static String quote(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\t' -> sb.append("\\t");
        case '\r' -> sb.append("\\r");
        default -> {
          if (c < 0x20) {
            sb.append(String.format(java.util.Locale.ROOT, "\\x%02x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }
}
