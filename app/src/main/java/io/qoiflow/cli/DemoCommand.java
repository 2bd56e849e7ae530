package io.qoiflow.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.qoiflow.dashboard.Dashboard;
import io.qoiflow.demo.LiveView;
import io.qoiflow.engine.ModelLocator;
import io.qoiflow.local.LocalKafkaBroker;
import io.qoiflow.records.Modality;
import io.qoiflow.records.ObjectState;
import io.qoiflow.records.QaQuestion;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.schemas.SensorContract;
import io.qoiflow.schemas.SingleObjectSerde;
import io.qoiflow.schemas.Topics;
import io.qoiflow.schemas.WireFormatException;
import io.qoiflow.simulator.replay.ReplayPublisher;
import io.qoiflow.simulator.replay.Scenario;
import io.qoiflow.topology.JobConfig;
import io.qoiflow.topology.JobEnvironment;
import io.qoiflow.topology.QoiFlowJob;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code qoiflow demo}: the whole system on one machine. A real Kafka broker process, the job on a
 * Flink MiniCluster in this JVM (unbounded sources, exactly-once sinks), the simulator replaying a
 * scenario of K rigs with telemetry and questions, a console line per second and the dashboard.
 * Stops cleanly when the scenario has played and its results are in (or the grace period ends).
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Run the whole pipeline locally: a real Kafka broker, the Flink job on a MiniCluster,",
      "the simulator replaying a scenario, a live console view and the dashboard."
    })
public final class DemoCommand implements Callable<Integer> {
  static final String DEFAULT_SCENARIO = "simulator/scenarios/night-shift.yaml";
  private static final String DEMO_GROUP = "qoiflow-demo";

  /** Seconds after the replay before the job is stopped with --drain if results are missing. */
  private static final double SETTLE_S = 3;

  @Option(
      names = "--scenario",
      description = "Scenario YAML (default: " + DEFAULT_SCENARIO + " in the repository).")
  Path scenario;

  @Option(names = "--duration", description = "Seconds of the scenario to play (default: all).")
  Double duration;

  @Option(names = "--summary", description = "Write the closing figures as JSON to this file.")
  Path summary;

  @Option(names = "--model", description = "Model directory (default: the committed model).")
  Path model;

  @Option(
      names = "--qa-model",
      description = "Question-answering model directory, or `none` (default: the committed one).")
  String qaModel;

  @Option(names = "--rigs", description = "Number of rigs (default: the scenario's).")
  Integer rigs;

  @Option(
      names = "--speed",
      defaultValue = "1.0",
      description = "Real-time factor of the replay (default ${DEFAULT-VALUE}).")
  double speed;

  @Option(
      names = "--parallelism",
      defaultValue = "2",
      description = "Job parallelism on the MiniCluster (default ${DEFAULT-VALUE}).")
  int parallelism;

  @Option(
      names = "--dashboard-port",
      defaultValue = "8088",
      description =
          "Dashboard port on 127.0.0.1; 0 picks a free one, -1 turns it off"
              + " (default ${DEFAULT-VALUE}).")
  int dashboardPort;

  @Option(
      names = "--grace",
      defaultValue = "30",
      description =
          "Seconds without a new result, once the replay has ended, before the demo gives up"
              + " waiting (default ${DEFAULT-VALUE}).")
  double graceS;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Path root = ModelLocator.repoRoot();
    Scenario s = Scenario.load(scenario != null ? scenario : root.resolve(DEFAULT_SCENARIO));
    s = s.withOverrides(rigs, null, duration, s.faults());
    Path modelDir = model != null ? model : ModelLocator.defaultModel();

    err.printf("demo: starting a Kafka broker...%n");
    err.flush();
    try (LocalKafkaBroker broker = LocalKafkaBroker.start()) {
      String bootstrap = broker.bootstrapServers();
      broker.createTopics(Topics.all(parallelism));
      err.printf("demo: broker at %s; topics created%n", bootstrap);

      Path stateDir = Files.createTempDirectory("qoiflow-demo-state");
      List<String> jobArgs =
          new ArrayList<>(
              List.of(
                  "--bootstrap",
                  bootstrap,
                  "--model",
                  modelDir.toString(),
                  "--checkpoint-interval-ms",
                  "1000",
                  "--group-id",
                  DEMO_GROUP,
                  "--transactional-id-prefix",
                  "qoiflow-demo"));
      Optional<Path> qaDir =
          "none".equals(qaModel)
              ? Optional.empty()
              : qaModel != null ? Optional.of(Path.of(qaModel)) : ModelLocator.defaultQaModel();
      qaDir.ifPresent(d -> jobArgs.addAll(List.of("--qa-model", d.toString())));
      JobConfig config = JobConfig.fromArgs(jobArgs.toArray(String[]::new));
      StreamExecutionEnvironment env =
          JobEnvironment.local(
              config, parallelism, stateDir.resolve("checkpoints"), new Configuration());
      QoiFlowJob.defineKafkaWorkflow(env, config);
      JobClient job = env.executeAsync(QoiFlowJob.JOB_NAME);
      awaitRunning(job, Duration.ofSeconds(60));
      err.printf(
          "demo: job %s running on a Flink MiniCluster (model %s)%n", job.getJobID(), modelDir);

      Dashboard dashboard = dashboardPort < 0 ? null : Dashboard.start(bootstrap, dashboardPort);
      if (dashboard != null) {
        err.printf("demo: dashboard at %s%n", dashboard.uri());
      }
      err.flush();

      Map<String, ObjectState> truth = new ConcurrentHashMap<>();
      Map<String, Set<Modality>> frameSets = new ConcurrentHashMap<>();
      Set<String> questions = ConcurrentHashMap.newKeySet();
      AtomicReference<Throwable> replayFailure = new AtomicReference<>();
      Scenario played = s;
      Thread replay =
          new Thread(
              () -> {
                try {
                  replay(played, bootstrap, truth, frameSets, questions);
                } catch (Throwable t) {
                  replayFailure.set(t);
                }
              },
              "demo-replay");

      Map<String, Object> figures;
      CompletableFuture<String> stopped = null;
      try (Admin admin =
              Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
          LiveView view =
              new LiveView(
                  bootstrap,
                  (rig, t) -> truth.get(key(rig, t)),
                  (rig, t) -> frameSets.get(key(rig, t)))) {
        long startNanos = System.nanoTime();
        replay.start();
        double lastLineS = 0;
        double replayEndS = Double.NaN;
        long lastResults = -1;
        double lastProgressS = 0;
        while (true) {
          view.poll(Duration.ofMillis(200));
          double elapsedS = (System.nanoTime() - startNanos) / 1e9;
          if (elapsedS - lastLineS >= 1.0) {
            double scenarioS = Math.min(elapsedS * Math.max(speed, 1e-9), played.durationS());
            String phase =
                !replay.isAlive()
                    ? stopped == null ? "replay done" : "draining"
                    : speed <= 0
                        ? "replaying as fast as possible"
                        : String.format(
                            "t=%3.0fs %s", scenarioS, played.specAt(scenarioS).toString());
            view.printLine(out, elapsedS, elapsedS - lastLineS, phase);
            lastLineS = elapsedS;
          }
          if (replay.isAlive()) {
            continue;
          }
          if (Double.isNaN(replayEndS)) {
            replayEndS = elapsedS;
          }
          if (view.resultCount() != lastResults) {
            lastResults = view.resultCount();
            lastProgressS = elapsedS;
          }
          boolean allIn = view.resultCount() >= frameSets.size();
          if (stopped == null
              && (allIn
                  || (elapsedS - replayEndS >= SETTLE_S
                      && jobHasReadEveryFrame(admin, DEMO_GROUP)))) {
            // The input has ended but a stream does not: sets still waiting for a missing
            // modality would wait for ever. Stopping with --drain advances event time to the
            // end, so they are emitted (marked incomplete), and commits the last transactions.
            // Only once the job has read every frame (its checkpointed offsets are at the end):
            // a fast replay leaves a backlog, and draining before it is read would close its
            // sets without their frames.
            stopped =
                job.stopWithSavepoint(
                    true,
                    stateDir.resolve("savepoints").toUri().toString(),
                    SavepointFormatType.CANONICAL);
          }
          if ((allIn && stopped != null && stopped.isDone())
              || elapsedS - Math.max(replayEndS, lastProgressS) >= graceS) {
            break;
          }
        }
        if (stopped != null && stopped.isDone()) {
          view.drain(Duration.ofSeconds(2)); // answers and dead letters of the final commit
        }
        figures = view.summary(frameSets.size(), questions.size());
      } finally {
        if (stopped == null || !stopped.isDone() || stopped.isCompletedExceptionally()) {
          job.cancel().exceptionally(e -> null).get();
        }
        deleteRecursively(stateDir);
        if (dashboard != null) {
          dashboard.close();
        }
      }
      if (replayFailure.get() != null) {
        err.println("demo: the replay failed: " + replayFailure.get());
        return 1;
      }
      String json =
          new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(figures);
      out.println(json);
      out.flush();
      if (summary != null) {
        Files.writeString(summary, json + "\n");
        err.printf("demo: summary written to %s%n", summary);
      }
      return 0;
    }
  }

  /**
   * Plays the scenario into Kafka. Notes, on the way, each rig's true target state by capture time
   * (for the error against ground truth), every (rig, capture time) with at least one decodable
   * frame (the FrameSets the job should answer) and every question id.
   */
  private void replay(
      Scenario s,
      String bootstrap,
      Map<String, ObjectState> truth,
      Map<String, Set<Modality>> frameSets,
      Set<String> questions)
      throws InterruptedException {
    SingleObjectSerde<SensorFrame> frames = SingleObjectSerde.forClass(SensorFrame.class);
    SingleObjectSerde<ObjectState> states = SingleObjectSerde.forClass(ObjectState.class);
    SingleObjectSerde<QaQuestion> questionSerde = SingleObjectSerde.forClass(QaQuestion.class);
    Properties props = ReplayPublisher.producerProperties(bootstrap);
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
      ReplayPublisher publisher =
          new ReplayPublisher(
                  s,
                  (topic, key, value, ts) -> {
                    try {
                      if (topic.equals(Topics.SIM_TRUTH)) {
                        truth.put(key(key, ts), states.decode(value));
                      } else if (SensorContract.frameTopics().contains(topic)) {
                        Modality m = frames.decode(value).getModality();
                        frameSets
                            .computeIfAbsent(key(key, ts), k -> ConcurrentHashMap.newKeySet())
                            .add(m);
                      } else if (topic.equals(Topics.QA_QUESTIONS)) {
                        questions.add(questionSerde.decode(value).getQuestionId());
                      }
                    } catch (WireFormatException malformed) {
                      // An injected fault: it leaves as a dead letter, not as a FrameSet.
                    }
                    producer.send(new ProducerRecord<>(topic, null, ts, key, value));
                  },
                  ReplayPublisher.startTimeEndingNoLaterThanNow(
                      s, speed, System.currentTimeMillis()),
                  speed)
              .withTruth(true);
      publisher.run();
      producer.flush();
    }
  }

  private static void deleteRecursively(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /**
   * Whether the job's consumer group has committed (on a checkpoint) the end offset of every
   * partition of every frame topic, i.e. has read and checkpointed every frame sent.
   */
  private static boolean jobHasReadEveryFrame(Admin admin, String group) throws Exception {
    Map<TopicPartition, OffsetAndMetadata> committed =
        admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
    Map<TopicPartition, OffsetSpec> latest = new java.util.HashMap<>();
    for (var d :
        admin.describeTopics(SensorContract.frameTopics()).allTopicNames().get().values()) {
      d.partitions()
          .forEach(
              p -> latest.put(new TopicPartition(d.name(), p.partition()), OffsetSpec.latest()));
    }
    for (var e : admin.listOffsets(latest).all().get().entrySet()) {
      OffsetAndMetadata c = committed.get(e.getKey());
      if ((c == null ? 0 : c.offset()) < e.getValue().offset()) {
        return false;
      }
    }
    return true;
  }

  /** Replays only once the job runs, so the first seconds are not a startup backlog. */
  private static void awaitRunning(JobClient job, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (job.getJobStatus().get() != JobStatus.RUNNING) {
      if (job.getJobStatus().get().isGloballyTerminalState() || System.nanoTime() > deadline) {
        throw new IllegalStateException("the job did not start: " + job.getJobStatus().get());
      }
      Thread.sleep(100);
    }
  }

  private static String key(String rig, long captureTime) {
    return rig + "@" + captureTime;
  }
}
