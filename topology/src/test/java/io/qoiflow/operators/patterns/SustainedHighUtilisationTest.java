package io.qoiflow.operators.patterns;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class SustainedHighUtilisationTest extends BudgetPatternTest {
  @Test
  void threeSaturatedReadingsInARowStepDownOnce() throws Exception {
    List<BudgetSignal> out =
        run(
            new SustainedHighUtilisation(),
            List.of(
                calm(0).build(),
                calm(1).setGpuUtilization(0.95).build(),
                calm(2).setGpuUtilization(0.97).build(),
                calm(3).setGpuUtilization(0.99).build(),
                calm(4).setGpuUtilization(0.4).build()));
    assertThat(out).hasSize(1);
    assertThat(out.get(0).time).isEqualTo(T + 3000);
  }

  @Test
  void anInterruptedRunDoesNotFire() throws Exception {
    assertThat(
            run(
                new SustainedHighUtilisation(),
                List.of(
                    calm(0).setGpuUtilization(0.95).build(),
                    calm(1).setGpuUtilization(0.95).build(),
                    calm(2).setGpuUtilization(0.5).build(),
                    calm(3).setGpuUtilization(0.95).build(),
                    calm(4).setGpuUtilization(0.95).build())))
        .isEmpty();
  }
}
