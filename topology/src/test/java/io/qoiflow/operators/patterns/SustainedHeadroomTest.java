package io.qoiflow.operators.patterns;

import static org.assertj.core.api.Assertions.assertThat;

import io.qoiflow.records.Telemetry;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SustainedHeadroomTest extends BudgetPatternTest {
  @Test
  void fiveCalmReadingsAllowAStepUp() throws Exception {
    List<Telemetry> input = new ArrayList<>();
    for (int s = 0; s < TH.headroomRun(); s++) {
      input.add(calm(s).build());
    }
    assertThat(run(new SustainedHeadroom(), input)).hasSize(1);
  }

  @Test
  void aBusyReadingResetsTheRun() throws Exception {
    List<Telemetry> input = new ArrayList<>();
    for (int s = 0; s < TH.headroomRun() * 2 - 1; s++) {
      input.add(
          s == TH.headroomRun() - 1 ? calm(s).setGpuUtilization(0.8).build() : calm(s).build());
    }
    assertThat(run(new SustainedHeadroom(), input)).isEmpty();
  }
}
