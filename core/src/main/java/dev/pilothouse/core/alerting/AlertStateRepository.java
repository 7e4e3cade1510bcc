package dev.pilothouse.core.alerting;

import java.util.List;
import java.util.Map;

/** Where each rule group's alerts are kept between evaluations, so a restart loses none. */
public interface AlertStateRepository {
  /** Every group's alerts, by group key. */
  Map<String, List<AlertState>> load();

  /** Replaces one group's alerts (an empty list removes the group). */
  void save(String groupKey, List<AlertState> alerts);
}
