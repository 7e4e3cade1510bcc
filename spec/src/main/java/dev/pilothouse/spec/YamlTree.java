package dev.pilothouse.spec;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads YAML text into a {@link Node} tree that remembers positions; reports duplicate keys.
 * Anchors and aliases ({@code &name}, {@code *name}) and merge keys ({@code <<: *name}) are
 * resolved as YAML (and Prometheus's, Alertmanager's and Compose's readers) resolve them; what the
 * aliases stand for is bounded, so that a few lines cannot expand to billions of nodes.
 */
final class YamlTree {
  private static final int MAX_DEPTH = 64;

  /** Nodes all aliases together may stand for. */
  static final long MAX_ALIASED_NODES = 100_000;

  private static final YAMLFactory FACTORY =
      YAMLFactory.builder()
          .streamReadConstraints(
              StreamReadConstraints.builder()
                  .maxNestingDepth(MAX_DEPTH)
                  .maxStringLength(1 << 20)
                  .build())
          .build();

  private final Problems problems;
  private final Map<String, Node> anchors = new HashMap<>();
  private final Map<Node, Long> sizes = new IdentityHashMap<>();
  private long aliased;

  /** A problem at a place, found while the tree is read; it ends the reading. */
  private static final class Refused extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final int line;
    final int column;
    final String hint;

    Refused(int line, int column, String message, String hint) {
      super(message, null, false, false);
      this.line = line;
      this.column = column;
      this.hint = hint;
    }
  }

  YamlTree(Problems problems) {
    this.problems = problems;
  }

  /** The root node, or null when the text is not YAML (the problem is recorded). */
  Node read(String text) {
    try (JsonParser p = FACTORY.createParser(text)) {
      JsonToken t = p.nextToken();
      if (t == null) {
        problems.add(1, 1, "", "the file is empty", "declare at least 'services:'");
        return null;
      }
      Node root = node(p, t, 0);
      if (p.nextToken() != null) {
        JsonLocation l = p.currentTokenLocation();
        problems.add(
            l.getLineNr(),
            l.getColumnNr(),
            "",
            "the file holds more than one YAML document",
            "a second document starts here; keep one and remove the other with its --- line");
      }
      return root;
    } catch (Refused r) {
      problems.add(r.line, r.column, "", r.getMessage(), r.hint);
      return null;
    } catch (JsonProcessingException e) {
      JsonLocation l = e.getLocation();
      int line = l == null ? 1 : Math.max(1, l.getLineNr());
      int col = l == null ? 1 : Math.max(1, l.getColumnNr());
      problems.add(
          line,
          col,
          "",
          "not valid YAML: " + firstLine(e.getOriginalMessage()),
          "fix the syntax here");
      return null;
    } catch (IOException | RuntimeException | StackOverflowError e) {
      // SnakeYAML throws its own unchecked exceptions for malformed input; none may escape.
      problems.add(
          1,
          1,
          "",
          "not valid YAML: " + firstLine(String.valueOf(e.getMessage())),
          "fix the syntax");
      return null;
    }
  }

  /** A merge key's value: a map, or a list of maps, whose entries the mapping takes. */
  private static void merge(Node value, JsonLocation at, List<Node.Entry> into) {
    List<Node> maps =
        value instanceof Node.ListNode l ? l.items() : value == null ? List.of() : List.of(value);
    for (Node m : maps) {
      if (!(m instanceof Node.MapNode map)) {
        throw new Refused(
            at.getLineNr(),
            at.getColumnNr(),
            "a merge key '<<' takes a map or a list of maps, but this is " + m.kind(),
            "write '<<: *name' with '&name' on a map");
      }
      into.addAll(map.entries().values());
    }
  }

  /** The parser's explanation without its own position and snippet lines. */
  private static String firstLine(String s) {
    if (s == null) {
      return "unreadable input";
    }
    List<String> kept = new ArrayList<>();
    for (String line : s.split("\n")) {
      if (!line.isBlank() && !Character.isWhitespace(line.charAt(0))) {
        kept.add(line.trim());
      }
    }
    return kept.isEmpty() ? s.trim() : String.join("; ", kept);
  }

  private Node node(JsonParser p, JsonToken t, int depth) throws IOException {
    JsonLocation l = p.currentTokenLocation();
    int line = l.getLineNr();
    int col = l.getColumnNr();
    if (depth > MAX_DEPTH) {
      throw new IllegalStateException("nesting deeper than " + MAX_DEPTH + " levels");
    }
    if (p instanceof YAMLParser y && y.isCurrentAlias()) {
      return alias(p.getText(), line, col);
    }
    Object anchor = p.getObjectId();
    Node node = read(p, t, depth, line, col);
    if (anchor != null) {
      anchors.put(anchor.toString(), node);
    }
    return node;
  }

  /** The node an alias names, counted against {@link #MAX_ALIASED_NODES}. */
  private Node alias(String name, int line, int col) {
    Node target = anchors.get(name);
    if (target == null) {
      throw new Refused(
          line, col, "alias *" + name + " names no anchor", "define '&" + name + "' before it");
    }
    aliased += size(target);
    if (aliased > MAX_ALIASED_NODES) {
      throw new Refused(
          line,
          col,
          "the aliases expand to more than " + MAX_ALIASED_NODES + " nodes",
          "write the repeated parts out, or alias smaller parts");
    }
    return target;
  }

  private long size(Node n) {
    Long known = sizes.get(n);
    if (known != null) {
      return known;
    }
    long total = 1;
    if (n instanceof Node.MapNode m) {
      for (Node.Entry e : m.entries().values()) {
        total = Math.min(Long.MAX_VALUE / 2, total + size(e.value()));
      }
    } else if (n instanceof Node.ListNode l) {
      for (Node i : l.items()) {
        total = Math.min(Long.MAX_VALUE / 2, total + size(i));
      }
    }
    sizes.put(n, total);
    return total;
  }

  private Node read(JsonParser p, JsonToken t, int depth, int line, int col) throws IOException {
    switch (t) {
      case START_OBJECT -> {
        LinkedHashMap<String, Node.Entry> entries = new LinkedHashMap<>();
        List<Node.Entry> merged = new ArrayList<>();
        JsonToken k;
        while ((k = p.nextToken()) == JsonToken.FIELD_NAME) {
          JsonLocation kl = p.currentTokenLocation();
          String key = p.currentName();
          Node value = node(p, p.nextToken(), depth + 1);
          if (key.equals("<<")) {
            merge(value, kl, merged);
            continue;
          }
          Node.Entry e = new Node.Entry(key, kl.getLineNr(), kl.getColumnNr(), value);
          Node.Entry before = entries.putIfAbsent(key, e);
          if (before != null) {
            problems.add(
                e.line(),
                e.column(),
                key,
                "duplicate key '" + key + "' (first at line " + before.line() + ")",
                "remove one of them");
          }
        }
        // The mapping's own keys win over merged ones, and an earlier merged map over a later.
        merged.forEach(e -> entries.putIfAbsent(e.key(), e));
        return new Node.MapNode(line, col, entries);
      }
      case START_ARRAY -> {
        List<Node> items = new ArrayList<>();
        JsonToken i;
        while ((i = p.nextToken()) != JsonToken.END_ARRAY && i != null) {
          items.add(node(p, i, depth + 1));
        }
        return new Node.ListNode(line, col, items);
      }
      case VALUE_STRING -> {
        return new Node.Scalar(line, col, p.getText(), Node.Scalar.Type.STRING);
      }
      case VALUE_NUMBER_INT -> {
        return new Node.Scalar(line, col, p.getText(), Node.Scalar.Type.INT);
      }
      case VALUE_NUMBER_FLOAT -> {
        return new Node.Scalar(line, col, p.getText(), Node.Scalar.Type.FLOAT);
      }
      case VALUE_TRUE, VALUE_FALSE -> {
        return new Node.Scalar(line, col, p.getText(), Node.Scalar.Type.BOOL);
      }
      case VALUE_NULL -> {
        return new Node.Scalar(line, col, "", Node.Scalar.Type.NULL);
      }
      default -> {
        return new Node.Scalar(line, col, String.valueOf(p.getText()), Node.Scalar.Type.STRING);
      }
    }
  }
}
