package io.qoiflow.operators.patterns;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ThrottleThenHotTest extends BudgetPatternTest {
  @Test
  void throttleFollowedByHighTemperatureStepsDown() throws Exception {
    assertThat(
            run(
                new ThrottleThenHot(),
                List.of(
                    calm(0).setThrottled(true).build(),
                    calm(2).setTemperatureC(70).build(),
                    calm(4).setTemperatureC(88).build())))
        .singleElement()
        .satisfies(s -> assertThat(s.time).isEqualTo(T + 4000));
  }

  @Test
  void heatWithoutThrottleOrTooLateDoesNotFire() throws Exception {
    assertThat(
            run(
                new ThrottleThenHot(),
                List.of(
                    calm(0).setTemperatureC(90).build(),
                    calm(1).setThrottled(true).build(),
                    calm(60).setTemperatureC(90).build())))
        .isEmpty();
  }
}
