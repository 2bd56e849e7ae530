package io.qoiflow.operators.functions;

import io.qoiflow.records.Modality;
import java.io.Serializable;
import java.util.EnumSet;
import java.util.Set;

/**
 * How frames are grouped into FrameSets.
 *
 * @param expected modalities a complete set has; a set is emitted as soon as all have arrived
 * @param toleranceMs frames of one rig whose capture times differ by at most this form one set
 * @param maxWaitMs event time after a set's capture time at which it is emitted incomplete; frames
 *     behind the watermark by more than this are late
 * @param questionToleranceMs a question attaches to the set nearest its time within this distance
 */
public record JoinConfig(
    Set<Modality> expected, long toleranceMs, long maxWaitMs, long questionToleranceMs)
    implements Serializable {

  public JoinConfig {
    expected = EnumSet.copyOf(expected);
    if (toleranceMs < 0 || maxWaitMs <= 0 || questionToleranceMs < 0) {
      throw new IllegalArgumentException("tolerances must be >= 0 and maxWaitMs > 0");
    }
  }

  /**
   * All five modalities, 20 ms grouping tolerance, 500 ms max wait, questions within 50 ms (half
   * the simulator's 10 Hz frame period, so the set within tolerance is the nearest one).
   */
  public static JoinConfig defaults() {
    return new JoinConfig(EnumSet.allOf(Modality.class), 20, 500, 50);
  }
}
