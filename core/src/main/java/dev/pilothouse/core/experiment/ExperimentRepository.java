package dev.pilothouse.core.experiment;

import java.util.List;

/** Where experiments' lifecycles are kept (the store). */
public interface ExperimentRepository {
  void saveExperiment(ExperimentRecord record);

  List<ExperimentRecord> experiments();
}
