package dev.pilothouse.spec;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/** Reads YAML text into a {@link Node} tree that remembers positions; reports duplicate keys. */
final class YamlTree {
  private static final int MAX_DEPTH = 64;
  private static final YAMLFactory FACTORY =
      YAMLFactory.builder()
          .streamReadConstraints(
              StreamReadConstraints.builder()
                  .maxNestingDepth(MAX_DEPTH)
                  .maxStringLength(1 << 20)
                  .build())
          .build();

  private final Problems problems;

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
    switch (t) {
      case START_OBJECT -> {
        LinkedHashMap<String, Node.Entry> entries = new LinkedHashMap<>();
        JsonToken k;
        while ((k = p.nextToken()) == JsonToken.FIELD_NAME) {
          JsonLocation kl = p.currentTokenLocation();
          String key = p.currentName();
          Node value = node(p, p.nextToken(), depth + 1);
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
