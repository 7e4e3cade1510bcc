package dev.pilothouse.chaos;

import dev.pilothouse.core.chaos.ChaosExperiment;

/** The port to the experiment file format (the spec module reads it): a game day's file. */
@FunctionalInterface
public interface ExperimentReader {
  /**
   * The experiment a file's text declares.
   *
   * @throws ChaosException naming the file's first problem
   */
  ChaosExperiment read(String file, String text) throws ChaosException;
}
