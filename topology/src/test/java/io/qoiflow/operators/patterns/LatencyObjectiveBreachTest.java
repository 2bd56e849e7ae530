package io.qoiflow.operators.patterns;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class LatencyObjectiveBreachTest extends BudgetPatternTest {
  @Test
  void consecutiveSlowReadingsStepDown() throws Exception {
    double slow = TH.latencyObjectiveMs() * 1.5;
    assertThat(
            run(
                new LatencyObjectiveBreach(),
                List.of(
                    calm(0).build(),
                    calm(1).setInferenceP99Ms(slow).build(),
                    calm(2).setInferenceP99Ms(slow).build())))
        .hasSize(1);
  }

  @Test
  void aSingleSpikeIsTolerated() throws Exception {
    double slow = TH.latencyObjectiveMs() * 1.5;
    assertThat(
            run(
                new LatencyObjectiveBreach(),
                List.of(
                    calm(0).setInferenceP99Ms(slow).build(),
                    calm(1).build(),
                    calm(2).setInferenceP99Ms(slow).build())))
        .isEmpty();
  }
}
