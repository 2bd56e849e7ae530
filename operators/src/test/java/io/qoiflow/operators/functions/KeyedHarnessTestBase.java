package io.qoiflow.operators.functions;

import io.qoiflow.records.DeadLetter;
import java.util.List;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.util.OutputTag;

/** Shared helpers for keyed operator harness tests. */
abstract class KeyedHarnessTestBase {

  static List<String> reasons(AbstractStreamOperatorTestHarness<?> h, OutputTag<DeadLetter> tag) {
    var side = h.getSideOutput(tag);
    return side == null
        ? List.of()
        : side.stream().map(StreamRecord::getValue).map(DeadLetter::getReasonCode).toList();
  }
}
