package io.qoiflow.simulator.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Placeholder until the simulator issue lands: {@code qoiflow simulate}. */
@Command(name = "simulate", mixinStandardHelpOptions = true, description = "Not built yet.")
public final class SimulateCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("qoiflow simulate is not built yet");
    return 2;
  }
}
