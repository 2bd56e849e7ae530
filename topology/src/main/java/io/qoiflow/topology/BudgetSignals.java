package io.qoiflow.topology;

import io.qoiflow.operators.patterns.BudgetPattern;
import io.qoiflow.operators.patterns.BudgetSignal;
import io.qoiflow.operators.patterns.BudgetThresholds;
import io.qoiflow.records.Telemetry;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.cep.CEP;
import org.apache.flink.cep.functions.PatternProcessFunction;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.KeyedStream;
import org.apache.flink.util.Collector;

/**
 * Runs every budget pattern over the telemetry of each pool (event time) and unions the signals.
 */
public final class BudgetSignals {
  private BudgetSignals() {}

  public static DataStream<BudgetSignal> detect(
      DataStream<Telemetry> telemetry, List<BudgetPattern> patterns, BudgetThresholds thresholds) {
    KeyedStream<Telemetry, String> byPool = telemetry.keyBy(t -> t.getPoolId().toString());
    DataStream<BudgetSignal> all = null;
    for (BudgetPattern p : patterns) {
      DataStream<BudgetSignal> signals =
          CEP.pattern(byPool, p.pattern(thresholds))
              .inEventTime()
              .process(new SignalOnMatch(p), TypeInformation.of(BudgetSignal.class))
              .name("cep " + p.name())
              .uid("cep-" + p.name());
      all = all == null ? signals : all.union(signals);
    }
    return all;
  }

  /** Turns a match into a signal stamped with the time of the match's last reading. */
  static final class SignalOnMatch extends PatternProcessFunction<Telemetry, BudgetSignal> {
    private static final long serialVersionUID = 1L;
    private final String name;
    private final BudgetSignal.Direction direction;

    SignalOnMatch(BudgetPattern pattern) {
      this.name = pattern.name();
      this.direction = pattern.direction();
    }

    @Override
    public void processMatch(
        Map<String, List<Telemetry>> match, Context ctx, Collector<BudgetSignal> out) {
      String pool = null;
      long last = Long.MIN_VALUE;
      for (List<Telemetry> events : match.values()) {
        for (Telemetry t : events) {
          pool = t.getPoolId();
          last = Math.max(last, t.getTime().toEpochMilli());
        }
      }
      out.collect(new BudgetSignal(pool, last, name, direction));
    }
  }
}
