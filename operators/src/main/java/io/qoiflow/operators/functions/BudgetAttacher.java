package io.qoiflow.operators.functions;

import io.qoiflow.records.BudgetDecision;
import io.qoiflow.records.FrameSet;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.co.BroadcastProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Stamps each FrameSet with the budget in force for the job's pool, from the broadcast budget
 * decisions. Before any decision the initial budget applies.
 */
public final class BudgetAttacher
    extends BroadcastProcessFunction<FrameSet, BudgetDecision, FrameSet> {
  private static final long serialVersionUID = 1L;

  public static final MapStateDescriptor<String, Double> BUDGETS =
      new MapStateDescriptor<>("budget-by-pool", Types.STRING, Types.DOUBLE);

  private final String poolId;
  private final double initialBudget;

  public BudgetAttacher(String poolId, double initialBudget) {
    this.poolId = poolId;
    this.initialBudget = initialBudget;
  }

  @Override
  public void processElement(FrameSet set, ReadOnlyContext ctx, Collector<FrameSet> out)
      throws Exception {
    Double budget = ctx.getBroadcastState(BUDGETS).get(poolId);
    set.setBudgetFraction(budget == null ? initialBudget : budget);
    out.collect(set);
  }

  @Override
  public void processBroadcastElement(BudgetDecision decision, Context ctx, Collector<FrameSet> out)
      throws Exception {
    ctx.getBroadcastState(BUDGETS).put(decision.getPoolId(), decision.getBudgetFraction());
  }
}
