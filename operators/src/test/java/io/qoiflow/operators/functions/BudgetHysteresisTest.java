package io.qoiflow.operators.functions;

import static org.assertj.core.api.Assertions.assertThat;

import io.qoiflow.operators.patterns.BudgetSignal;
import io.qoiflow.operators.patterns.BudgetSignal.Direction;
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

  /** A signal, then the watermark at its time: the hysteresis applies it then. */
  private void signal(long t, Direction d) throws Exception {
    h.processElement(new BudgetSignal("pool-a", t, d == Direction.DOWN ? "down" : "up", d), t);
    h.processWatermark(t);
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
  void signalsFromDifferentPatternsApplyInEventTimeOrderWhateverTheirArrivalOrder()
      throws Exception {
    // The later UP arrives first, as it can from a union of CEP operators.
    h.processElement(new BudgetSignal("pool-a", 20_000, "headroom", Direction.UP), 20_000);
    h.processElement(new BudgetSignal("pool-a", 5_000, "hot", Direction.DOWN), 5_000);
    h.processElement(new BudgetSignal("pool-a", 5_000, "lag", Direction.DOWN), 5_000);
    assertThat(h.extractOutputValues()).as("nothing before the watermark").isEmpty();
    assertThat(h.numEventTimeTimers()).isEqualTo(2);

    h.processWatermark(30_000);

    assertThat(h.extractOutputValues())
        .extracting(BudgetDecision::getReason, BudgetDecision::getBudgetFraction)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("hot", 0.67),
            org.assertj.core.groups.Tuple.tuple("lag", 0.5),
            org.assertj.core.groups.Tuple.tuple("headroom", 0.67));
    assertThat(h.numEventTimeTimers()).as("timers cleared").isZero();
    assertThat(h.numKeyedStateEntries())
        .as("only the budget and its last change remain; held signals cleared")
        .isEqualTo(2);
  }

  @Test
  void modelMinimumRemovesLevelsBelowIt() {
    BudgetLevels levels = BudgetLevels.defaults().atLeast(0.3);
    assertThat(levels.fractions()).containsExactly(0.33, 0.5, 0.67, 1.0);
    assertThat(levels.lower(0.33)).isEqualTo(0.33);
  }
}
