package io.qoiflow.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.qoiflow.operators.deadletter.Outcome;
import io.qoiflow.operators.functions.ValidatingDeserializer;
import io.qoiflow.records.LabelledSample;
import io.qoiflow.records.Modality;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.schemas.FrameContract;
import io.qoiflow.schemas.FrameSpec;
import io.qoiflow.schemas.RecordValidator;
import io.qoiflow.simulator.CorruptionSpec;
import io.qoiflow.simulator.Frames;
import io.qoiflow.simulator.Simulator;
import java.util.EnumMap;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The crafted bad records of the end-to-end test each break the one rule they are meant to: the
 * job's own deserializer, with the simulator's frame contract, gives each its expected reason. Runs
 * without a cluster, so a wrong crafting fails here first and plainly.
 */
class BadInputTest {
  @Test
  void eachCraftedRecordGetsItsOwnReasonFromTheJobsDeserializer() {
    EnumMap<Modality, FrameSpec> specs = new EnumMap<>(Modality.class);
    for (Modality m : Modality.values()) {
      specs.put(
          m, new FrameSpec(Frames.shape(m).stream().mapToInt(i -> i).toArray(), Frames.dtype(m)));
    }
    ValidatingDeserializer<SensorFrame> deserializer =
        ValidatingDeserializer.frames(
            new RecordValidator(new FrameContract(specs, 1 << 20, 60_000)));
    LabelledSample sample = new Simulator(7, CorruptionSpec.clean(), "good-0").sample(3);
    SensorFrame template =
        sample.getFrames().stream()
            .filter(f -> f.getModality() == Modality.MMWAVE)
            .findFirst()
            .orElseThrow();

    List<BadInput.Case> cases =
        BadInput.sourceCases(template, template.getCaptureTime().toEpochMilli());
    assertThat(cases).extracting(BadInput.Case::expectedReason).hasSizeGreaterThanOrEqualTo(14);
    for (BadInput.Case c : cases) {
      Outcome<SensorFrame> o = deserializer.decode(c.record().value(), c.record().topic(), 0, 0);
      assertThat(o.isValid()).as(c.kind()).isFalse();
      assertThat(o.deadLetter.getReasonCode()).as(c.kind()).isEqualTo(c.expectedReason());
    }
    // The join-level cases decode as valid frames: the join, not the source, rejects them.
    for (BadInput.Case c : List.of(BadInput.late(template))) {
      assertThat(deserializer.decode(c.record().value(), c.record().topic(), 0, 0).isValid())
          .as(c.kind())
          .isTrue();
    }
    byte[] valid =
        io.qoiflow.schemas.SingleObjectSerde.forClass(SensorFrame.class).encode(template);
    assertThat(deserializer.decode(valid, Workload.topicOf(template), 0, 0).isValid())
        .as("the unmodified template is valid")
        .isTrue();
  }

  /** The job's contract comes from the shipped model's manifest; simulator frames must pass it. */
  @Test
  void simulatorFramesAreValidUnderTheShippedModelsContract() {
    FrameContract contract =
        FrameContract.fromManifest(
            io.qoiflow.engine.ModelLocator.defaultModel().resolve("manifest.json"),
            1 << 20,
            Long.MAX_VALUE / 4);
    ValidatingDeserializer<SensorFrame> deserializer =
        ValidatingDeserializer.frames(new RecordValidator(contract));
    var serde = io.qoiflow.schemas.SingleObjectSerde.forClass(SensorFrame.class);
    for (SensorFrame f : new Simulator(7, CorruptionSpec.clean(), "good-0").sample(3).getFrames()) {
      Outcome<SensorFrame> o = deserializer.decode(serde.encode(f), Workload.topicOf(f), 0, 0);
      assertThat(o.isValid())
          .as(
              f.getModality()
                  + " "
                  + f.getDtype()
                  + " "
                  + (o.isValid() ? "" : o.deadLetter.getMessage()))
          .isTrue();
    }
  }
}
