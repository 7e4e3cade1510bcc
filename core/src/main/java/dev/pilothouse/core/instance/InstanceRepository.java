package dev.pilothouse.core.instance;

import java.util.List;
import java.util.Map;

/** Persists instances and per-service restart generations. */
public interface InstanceRepository {
  List<InstanceRecord> loadInstances();

  void saveInstance(InstanceRecord record);

  void deleteInstance(String id);

  Map<String, Integer> loadGenerations();

  void saveGeneration(String service, int generation);
}
