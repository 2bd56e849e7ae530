package io.qoiflow.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qoiflow.records.DeadLetter;
import io.qoiflow.records.FusionResult;
import io.qoiflow.records.SensorFrame;
import org.junit.jupiter.api.Test;

/** Topic names under a prefix, and the record type of each topic. */
class TopicsTest {

  @Test
  void aPrefixNamesEveryTopicAndMapsBack() {
    assertThat(Topics.prefixed("plant-a.", Topics.RESULTS_FUSION))
        .isEqualTo("plant-a.results.fusion");
    assertThat(Topics.prefixed("", Topics.RESULTS_FUSION)).isEqualTo("results.fusion");
    assertThat(Topics.prefixed(null, Topics.BUDGET)).isEqualTo("budget");
    assertThat(Topics.standard("plant-a.", "plant-a.deadletter")).isEqualTo("deadletter");
    assertThat(Topics.standard("plant-a.", "deadletter")).isEqualTo("deadletter");
    assertThat(Topics.all("p.", 3))
        .hasSameSizeAs(Topics.all(3))
        .containsEntry("p.frames.camera", 3)
        .containsEntry("p.budget", 1)
        .allSatisfy((name, partitions) -> assertThat(name).startsWith("p."));
    // The modality of a frame topic is its last part, prefix or not.
    assertThat(SensorContract.modalityOfTopic(Topics.prefixed("p.", Topics.FRAMES_LIDAR)))
        .isEqualTo(SensorContract.modalityOfTopic(Topics.FRAMES_LIDAR));
  }

  @Test
  void aPrefixKafkaCannotNameIsRefused() {
    assertThatThrownBy(() -> Topics.prefixed("a b", Topics.BUDGET))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("[A-Za-z0-9._-]");
  }

  @Test
  void eachTopicHasItsRecordType() {
    assertThat(Topics.recordClass(Topics.RESULTS_FUSION)).contains(FusionResult.class);
    assertThat(Topics.recordClass(Topics.DEADLETTER)).contains(DeadLetter.class);
    assertThat(Topics.recordClass(Topics.FRAMES_AUDIO)).contains(SensorFrame.class);
    assertThat(Topics.recordClass("results.fusionn")).isEmpty();
    assertThat(Topics.all(1).keySet())
        .allSatisfy(t -> assertThat(Topics.recordClass(t)).isPresent());
  }
}
