package io.qoiflow.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class QoiFlowCliTest {

  @Test
  void everySubcommandHasHelp() {
    CommandLine cli = QoiFlowCli.commandLine();
    assertThat(cli.getSubcommands()).containsKeys("kafka", "topics", "simulate", "replay");
    for (String name : cli.getSubcommands().keySet()) {
      if (name.equals("help")) {
        continue;
      }
      StringWriter out = new StringWriter();
      CommandLine sub = QoiFlowCli.commandLine();
      sub.setOut(new PrintWriter(out));
      int code = sub.execute(name, "--help");
      assertThat(code).as(name).isZero();
      assertThat(out.toString()).as(name).contains("Usage: qoiflow " + name);
    }
  }

  @Test
  void topicsRequiresABootstrapAddress() {
    CommandLine cli = QoiFlowCli.commandLine();
    StringWriter err = new StringWriter();
    cli.setErr(new PrintWriter(err));
    assertThat(cli.execute("topics")).isNotZero();
    assertThat(err.toString()).contains("--bootstrap");
  }
}
