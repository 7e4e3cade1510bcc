package dev.pilothouse.bench;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;

/**
 * DuckDB's side of bench/cost.sh: {@code load DB CSV} reads a FOCUS CSV into a table of a database
 * file (costs as DECIMAL(38,12), exact like ours), {@code report DB} sums BilledCost, EffectiveCost
 * and ListCost by ServiceName. Each prints its seconds (from the JDBC connection's opening) and the
 * total BilledCost, so the script can check both sides read the same bill.
 */
public final class CostPeer {
  private CostPeer() {}

  public static void main(String[] args) throws Exception {
    if (args[0].equals("total")) { // the total BilledCost of our report's JSON, exactly
      com.fasterxml.jackson.databind.JsonNode r =
          new com.fasterxml.jackson.databind.ObjectMapper()
              .enable(
                  com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
              .readTree(Path.of(args[1]).toFile());
      System.out.println(
          r.path("total").path("billedCost").decimalValue().stripTrailingZeros().toPlainString());
      return;
    }
    long t0 = System.nanoTime();
    Path db = Path.of(args[1]);
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:" + db);
        Statement s = c.createStatement()) {
      BigDecimal total;
      if (args[0].equals("load")) {
        String money = "'DECIMAL(38,12)'";
        s.execute(
            "CREATE TABLE bill AS SELECT * FROM read_csv('"
                + args[2]
                + "', header=true, nullstr=['NULL',''], types={'BilledCost': "
                + money
                + ", 'EffectiveCost': "
                + money
                + ", 'ListCost': "
                + money
                + ", 'ContractedCost': "
                + money
                + "})");
        s.execute("CHECKPOINT");
        total = one(s, "SELECT sum(BilledCost) FROM bill");
      } else {
        total = BigDecimal.ZERO;
        try (ResultSet r =
            s.executeQuery(
                "SELECT ServiceName, sum(BilledCost), sum(EffectiveCost), sum(ListCost), count(*)"
                    + " FROM bill GROUP BY ServiceName ORDER BY 3 DESC")) {
          while (r.next()) {
            total = total.add(r.getBigDecimal(2));
          }
        }
      }
      System.out.printf(
          "seconds=%.3f billed=%s%n",
          (System.nanoTime() - t0) / 1e9, total.stripTrailingZeros().toPlainString());
    }
  }

  private static BigDecimal one(Statement s, String q) throws Exception {
    try (ResultSet r = s.executeQuery(q)) {
      r.next();
      return r.getBigDecimal(1);
    }
  }
}
