package dev.pilothouse.anomaly;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.StringReader;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class CsvScoringTest {
  static String score(String csv) throws Exception {
    StringWriter w = new StringWriter();
    CsvScoring.score(
        "in.csv", new BufferedReader(new StringReader(csv)), new Detector(), CsvScoring.csv(w));
    return w.toString();
  }

  @Test
  void everyTimestampForm_isRead_andEachRowIsWrittenBackWithItsScore() throws Exception {
    StringBuilder in = new StringBuilder("timestamp,value\n");
    for (int i = 0; i < 300; i++) {
      in.append("2014-04-01 ")
          .append(String.format("%02d:%02d:00", i / 60 % 24, i % 60))
          .append(",")
          .append(10 + (i % 3))
          .append('\n');
    }
    String out = score(in.toString());
    String[] lines = out.split("\n");
    assertThat(lines[0]).isEqualTo("timestamp,value,anomaly_score");
    assertThat(lines).hasSize(301);
    assertThat(lines[1]).isEqualTo("2014-04-01 00:00:00,10,0");
    for (int i = 1; i < lines.length; i++) {
      double s = Double.parseDouble(lines[i].split(",")[2]);
      assertThat(s).isBetween(0.0, 1.0);
    }
    assertThat(CsvScoring.epochSecond("2024-05-01T12:00:00Z", "f", 1)).isEqualTo(1714564800L);
    assertThat(CsvScoring.epochSecond("2024-05-01T14:00:00+02:00", "f", 1)).isEqualTo(1714564800L);
    assertThat(CsvScoring.epochSecond("2024-05-01T12:00:00", "f", 1)).isEqualTo(1714564800L);
    assertThat(CsvScoring.epochSecond("2024-05-01 12:00:00", "f", 1)).isEqualTo(1714564800L);
    assertThat(CsvScoring.epochSecond("1714564800", "f", 1)).isEqualTo(1714564800L);
    assertThat(CsvScoring.epochSecond("1714564800.5", "f", 1)).isEqualTo(1714564800L);
  }

  @Test
  void anEmptyValue_isAMissingSample_scoredZero() throws Exception {
    String out = score("1714564800,1\n1714564860,\n1714564920,nan\n1714564980,2\r\n");
    assertThat(out)
        .isEqualTo(
            "timestamp,value,anomaly_score\n1714564800,1,0\n1714564860,,0\n1714564920,nan,0\n"
                + "1714564980,2,0\n");
  }

  @Test
  void badRows_areRefused_withTheirLine_andHowToFixThem() {
    assertThatThrownBy(() -> score("timestamp,value\n1714564800,1\nyesterday,2\n"))
        .isInstanceOf(CsvScoring.InputException.class)
        .hasMessageContaining("in.csv:3: timestamp 'yesterday' is neither ISO-8601 nor epoch")
        .hasMessageContaining("2024-05-01T12:00:00Z");
    assertThatThrownBy(() -> score("1714564800,1\n1714564860,lots\n"))
        .hasMessageContaining("in.csv:2: value 'lots' is not a number");
    assertThatThrownBy(() -> score("1714564800,1\n1714564700,2\n"))
        .hasMessageContaining("in.csv:2: timestamp 1714564700 is earlier than the row before it");
    assertThatThrownBy(() -> score("1714564800\n"))
        .hasMessageContaining("in.csv:1: expected 'timestamp,value'");
    assertThatThrownBy(() -> score("1714564800," + "9".repeat(70_000) + "\n"))
        .hasMessageContaining("in.csv:1: the line is longer than 64 KiB");
  }
}
