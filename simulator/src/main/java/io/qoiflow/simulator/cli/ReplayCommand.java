package io.qoiflow.simulator.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Placeholder until the simulator issue lands: {@code qoiflow replay}. */
@Command(name = "replay", mixinStandardHelpOptions = true, description = "Not built yet.")
public final class ReplayCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("qoiflow replay is not built yet");
    return 2;
  }
}
