package dev.pilothouse.spec;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.parser.CronParser;

/** Checks crontab expressions (five fields, names such as MON-FRI) as the autoscaler reads them. */
final class CronCheck {
  private static final CronParser PARSER =
      new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));

  private CronCheck() {}

  /** What is wrong with the expression, or null when it parses. */
  static String problem(String cron) {
    try {
      PARSER.parse(cron).validate();
      return null;
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
  }
}
