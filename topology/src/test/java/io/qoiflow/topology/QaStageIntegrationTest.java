package io.qoiflow.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.qoiflow.engine.EngineSample;
import io.qoiflow.engine.ExecutionProvider;
import io.qoiflow.engine.InferenceEngine;
import io.qoiflow.engine.ModelLocator;
import io.qoiflow.engine.Policy;
import io.qoiflow.engine.SampleResult;
import io.qoiflow.engine.qa.QaEngine;
import io.qoiflow.engine.qa.QaPolicy;
import io.qoiflow.local.LocalKafkaBroker;
import io.qoiflow.records.DeadLetter;
import io.qoiflow.records.LabelledSample;
import io.qoiflow.records.Modality;
import io.qoiflow.records.QaAnswer;
import io.qoiflow.records.QaPair;
import io.qoiflow.records.QaQuestion;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.schemas.SensorContract;
import io.qoiflow.schemas.SingleObjectSerde;
import io.qoiflow.schemas.Topics;
import io.qoiflow.simulator.CorruptionSpec;
import io.qoiflow.simulator.Simulator;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The job with a QA model on a Flink MiniCluster against a real Kafka broker: questions on {@code
 * qa.questions} leave as answers on {@code results.qa} (or dead letters), each answer equal to what
 * the QA engine gives for the same frames, modality (by the ADMN camera QoI) and N.
 */
class QaStageIntegrationTest {
  private static final int SAMPLES_PER_RIG = 4;
  private static final double BUDGET = 0.5;

  @RegisterExtension
  static final MiniClusterExtension MINI_CLUSTER =
      new MiniClusterExtension(
          new MiniClusterResourceConfiguration.Builder()
              .setNumberTaskManagers(1)
              .setNumberSlotsPerTaskManager(4)
              .build());

  private static LocalKafkaBroker broker;

  @BeforeAll
  static void startBroker() {
    broker = LocalKafkaBroker.start();
  }

  @AfterAll
  static void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  void everyQuestionLeavesAsTheEnginesAnswerOrAsADeadLetter() throws Exception {
    broker.createTopics(Topics.all(2));
    Path admnModel = ModelLocator.defaultModel();
    Path qaModel = ModelLocator.defaultQaModel().orElseThrow();

    // rig-0 by day, rig-1 at night (camera low light): the QoI policy should differ.
    List<LabelledSample> samples = new ArrayList<>();
    List<QaQuestion> questions = new ArrayList<>();
    Map<String, LabelledSample> sampleOf = new HashMap<>();
    String[] specs = {"clean", "camera:lowlight:0.9"};
    for (int r = 0; r < specs.length; r++) {
      Simulator sim = new Simulator(300 + r, CorruptionSpec.parse(specs[r]), "rig-" + r);
      for (int i = 0; i < SAMPLES_PER_RIG; i++) {
        LabelledSample s = sim.next();
        samples.add(s);
        Instant t = s.getFrames().get(0).getCaptureTime();
        int k = 0;
        for (QaPair p : s.getTruth().getQuestions()) {
          QaQuestion q = question("rig-" + r + "-" + i + "-" + k++, "rig-" + r, t, p.getQuestion());
          questions.add(q);
          sampleOf.put(q.getQuestionId(), s);
        }
      }
    }
    // A question far from any frame (the join rejects it) and one too long for the LM (QA does).
    Instant t0 = samples.get(0).getFrames().get(0).getCaptureTime();
    QaQuestion unmatched = question("unmatched", "rig-0", t0.plusSeconds(3600), "are there cars ?");
    QaQuestion tooLong =
        question(
            "too-long", "rig-0", t0, String.join(" ", java.util.Collections.nCopies(60, "car")));

    SingleObjectSerde<SensorFrame> frameSerde = SingleObjectSerde.forClass(SensorFrame.class);
    SingleObjectSerde<QaQuestion> questionSerde = SingleObjectSerde.forClass(QaQuestion.class);
    try (KafkaProducer<byte[], byte[]> producer = BrokerIo.producer(broker.bootstrapServers())) {
      for (LabelledSample s : samples) {
        for (SensorFrame f : s.getFrames()) {
          String topic = SensorContract.topic(f.getModality());
          producer.send(
              BrokerIo.record(
                  topic, f.getRigId(), f.getCaptureTime().toEpochMilli(), frameSerde.encode(f)));
        }
      }
      List<QaQuestion> all = new ArrayList<>(questions);
      all.add(unmatched);
      all.add(tooLong);
      for (QaQuestion q : all) {
        producer.send(
            BrokerIo.record(
                Topics.QA_QUESTIONS,
                q.getRigId(),
                q.getAskedTime().toEpochMilli(),
                questionSerde.encode(q)));
      }
      producer.flush();
    }

    JobConfig config =
        JobConfig.fromArgs(
            new String[] {
              "--bootstrap",
              broker.bootstrapServers(),
              "--model",
              admnModel.toString(),
              "--qa-model",
              qaModel.toString(),
              "--group-id",
              "qa-group",
              "--transactional-id-prefix",
              "qa-group",
              "--bounded",
              "true",
              "--policy",
              "admn",
              "--provider",
              "cpu",
              "--initial-budget",
              String.valueOf(BUDGET),
              "--checkpoint-interval-ms",
              "1000",
              "--max-future-skew-ms",
              String.valueOf(Long.MAX_VALUE / 4)
            });
    StreamExecutionEnvironment env = JobEnvironment.create(config);
    env.setParallelism(2);
    QoiFlowJob.defineKafkaWorkflow(env, config);
    env.execute("qoiflow-qa-it");

    List<QaAnswer> answers =
        BrokerIo.readAll(broker.bootstrapServers(), Topics.RESULTS_QA, QaAnswer.class);
    List<DeadLetter> dead =
        BrokerIo.readAll(broker.bootstrapServers(), Topics.DEADLETTER, DeadLetter.class);
    List<String> deadIds =
        dead.stream()
            .map(DeadLetter::getMessage)
            .filter(m -> m.contains("unmatched") || m.contains("too-long"))
            .toList();
    assertThat(answers)
        .as("dead letters: %s", dead.stream().map(DeadLetter::getMessage).toList())
        .hasSize(questions.size());
    assertThat(answers.stream().map(QaAnswer::getQuestionId))
        .doesNotHaveDuplicates()
        .containsExactlyInAnyOrderElementsOf(
            questions.stream().map(QaQuestion::getQuestionId).toList());
    assertThat(deadIds).hasSize(2);

    // The same answers from the engines directly, with the policy's modality and N.
    Map<String, QaAnswer> byId =
        answers.stream().collect(Collectors.toMap(QaAnswer::getQuestionId, a -> a));
    try (InferenceEngine admn = InferenceEngine.open(admnModel, ExecutionProvider.CPU);
        QaEngine qa = QaEngine.open(qaModel, ExecutionProvider.CPU)) {
      int camera = admn.manifest().modalities().indexOf("camera");
      int n = qa.policy().connectedBlocks(BUDGET);
      Map<LabelledSample, Modality> chosen = new HashMap<>();
      for (LabelledSample s : samples) {
        SampleResult r =
            admn.infer(List.of(EngineSample.of(s.getFrames(), BUDGET)), Policy.ADMN).get(0);
        chosen.put(s, qa.policy().modality(QaPolicy.Kind.QOI, r.qoi()[camera], true, true));
      }
      int lidarAtNight = 0;
      for (QaQuestion q : questions) {
        LabelledSample s = sampleOf.get(q.getQuestionId());
        Modality m = chosen.get(s);
        SensorFrame f =
            s.getFrames().stream().filter(x -> x.getModality() == m).findFirst().orElseThrow();
        QaEngine.Answer want = qa.answer(q.getText(), qa.prefix(m, f), n);
        QaAnswer got = byId.get(q.getQuestionId());
        assertThat(got.getAnswer()).as(q.getText()).isEqualTo(want.text());
        assertThat(got.getModalityUsed()).isEqualTo(m);
        assertThat(got.getConnectedBlocks()).isEqualTo(n);
        assertThat(got.getFlops()).isEqualTo(want.flops());
        assertThat(got.getModelVersion()).isEqualTo(qa.version());
        if (q.getRigId().equals("rig-1") && m == Modality.LIDAR) {
          lidarAtNight++;
        }
      }
      assertThat(lidarAtNight).as("night questions answered from LiDAR").isPositive();
    }
  }

  private static QaQuestion question(String id, String rig, Instant t, String text) {
    return QaQuestion.newBuilder()
        .setQuestionId(id)
        .setRigId(rig)
        .setAskedTime(t)
        .setText(text)
        .setQuestionType(null)
        .build();
  }
}
