package io.qoiflow.operators.functions;

import static org.assertj.core.api.Assertions.assertThat;

import io.qoiflow.operators.records.BudgetSignal;
import io.qoiflow.operators.records.BudgetSignal.Direction;
import io.qoiflow.records.BudgetDecision;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class BudgetHysteresisTest extends KeyedHarnessTestBase {
  private KeyedOneInputStreamOperatorTestHarness<String, BudgetSignal, BudgetDecision> h;

  @BeforeEach
  void setUp() throws Exception {
    h =
        ProcessFunctionTestHarnesses.forKeyedProcessFunction(
            new BudgetHysteresis(BudgetLevels.defaults().atLeast(0.125)),
            s -> s.poolId,
            Types.STRING);
  }

  @AfterEach
  void tearDown() throws Exception {
    h.close();
  }

  private void signal(long t, Direction d) throws Exception {
    h.processElement(new BudgetSignal("pool-a", t, d == Direction.DOWN ? "down" : "up", d), t);
  }

  private double last() {
    var out = h.extractOutputValues();
    return out.get(out.size() - 1).getBudgetFraction();
  }

  @Test
  void stepsDownFastAndNeverBelowTheLowestLevel() throws Exception {
    for (int i = 0; i < 8; i++) {
      signal(1000 + i, Direction.DOWN);
    }
    assertThat(h.extractOutputValues())
        .extracting(BudgetDecision::getBudgetFraction)
        .containsExactly(0.67, 0.5, 0.33, 0.25);
    BudgetDecision first = h.extractOutputValues().get(0);
    assertThat(first.getPreviousBudgetFraction()).isEqualTo(1.0);
    assertThat(first.getReason()).isEqualTo("down");
  }

  @Test
  void stepsUpOnlyAfterTheCooldown() throws Exception {
    signal(0, Direction.DOWN); // 1.0 -> 0.67
    signal(1_000, Direction.UP); // too soon
    signal(9_999, Direction.UP); // too soon
    assertThat(last()).isEqualTo(0.67);
    signal(10_000, Direction.UP); // cooled: -> 1.0
    assertThat(last()).isEqualTo(1.0);
    signal(30_000, Direction.UP); // already at the top: nothing
    assertThat(h.extractOutputValues()).hasSize(2);
  }

  @Test
  void modelMinimumRemovesLevelsBelowIt() {
    BudgetLevels levels = BudgetLevels.defaults().atLeast(0.3);
    assertThat(levels.fractions()).containsExactly(0.33, 0.5, 0.67, 1.0);
    assertThat(levels.lower(0.33)).isEqualTo(0.33);
  }
}
