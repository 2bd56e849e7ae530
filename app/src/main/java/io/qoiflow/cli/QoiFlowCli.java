package io.qoiflow.cli;

import io.qoiflow.schemas.KafkaClientProperties;
import io.qoiflow.simulator.cli.ReplayCommand;
import io.qoiflow.simulator.cli.SimulateCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The one front door: every capability a user or a test needs is a subcommand here. */
@Command(
    name = "qoiflow",
    mixinStandardHelpOptions = true,
    versionProvider = QoiFlowCli.Version.class,
    description = "QoIFlow: QoI-aware adaptive-depth multimodal inference on Kafka and Flink.",
    subcommands = {
      KafkaCommand.class,
      TopicsCommand.class,
      SimulateCommand.class,
      ReplayCommand.class,
      EvalCommand.class,
      EvalQaCommand.class,
      BenchCommand.class,
      DemoCommand.class,
      DashboardCommand.class,
      PlanCommand.class,
      ConsumeCommand.class,
      CommandLine.HelpCommand.class
    })
public final class QoiFlowCli implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static void main(String[] args) {
    // --kafka.PROPERTY VALUE (the job's form) becomes picocli's --kafka PROPERTY=VALUE.
    System.exit(commandLine().execute(KafkaClientProperties.rewriteDottedArguments(args)));
  }

  /** The configured command line, for tests that run subcommands in-process. */
  public static CommandLine commandLine() {
    return new CommandLine(new QoiFlowCli()).setCaseInsensitiveEnumValuesAllowed(true);
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = QoiFlowCli.class.getPackage().getImplementationVersion();
      return new String[] {"qoiflow " + (v == null ? "dev" : v)};
    }
  }
}
