package io.qoiflow.cli;

import io.qoiflow.dashboard.Dashboard;
import io.qoiflow.simulator.cli.KafkaOptions;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code qoiflow dashboard}: the live page until Ctrl-C. */
@Command(
    name = "dashboard",
    mixinStandardHelpOptions = true,
    description = {
      "Serve the live dashboard: budget and the pattern that set it, layers and QoI per modality,",
      "estimated track against ground truth (replay --truth), answers, dead letters by reason.",
      "Reads committed records of results.fusion, budget, results.qa, deadletter and sim.truth."
    })
public final class DashboardCommand implements Callable<Integer> {

  @Mixin KafkaOptions kafka;

  @Option(
      names = "--port",
      defaultValue = "8088",
      description = "HTTP port (default: ${DEFAULT-VALUE}; 0 picks a free one).")
  int port;

  @Option(
      names = "--bind",
      defaultValue = "127.0.0.1",
      description = "Address to listen on (default: ${DEFAULT-VALUE}; 0.0.0.0 in a container).")
  String bind;

  @Override
  public Integer call() throws InterruptedException {
    Dashboard dashboard = Dashboard.start(kafka.properties(), kafka.topicPrefix(), bind, port);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  dashboard.close();
                  stopped.countDown();
                }));
    System.out.println(dashboard.uri());
    System.out.flush();
    System.err.println(
        "dashboard: reading " + String.join(", ", Dashboard.TOPICS) + ". Ctrl-C stops it.");
    stopped.await();
    return 0;
  }
}
