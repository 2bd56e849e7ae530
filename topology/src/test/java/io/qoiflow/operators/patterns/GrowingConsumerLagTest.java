package io.qoiflow.operators.patterns;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class GrowingConsumerLagTest extends BudgetPatternTest {
  @Test
  void lagGrowingThreeReadingsInARowStepsDown() throws Exception {
    assertThat(
            run(
                new GrowingConsumerLag(),
                List.of(
                    calm(0).setConsumerLag(100).build(),
                    calm(1).setConsumerLag(800).build(),
                    calm(2).setConsumerLag(1500).build(),
                    calm(3).setConsumerLag(4000).build())))
        .hasSize(1);
  }

  @Test
  void highButShrinkingLagDoesNotFire() throws Exception {
    assertThat(
            run(
                new GrowingConsumerLag(),
                List.of(
                    calm(0).setConsumerLag(5000).build(),
                    calm(1).setConsumerLag(4000).build(),
                    calm(2).setConsumerLag(4500).build(),
                    calm(3).setConsumerLag(3000).build())))
        .isEmpty();
  }
}
