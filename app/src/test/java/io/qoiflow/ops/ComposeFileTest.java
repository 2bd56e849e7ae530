package io.qoiflow.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.qoiflow.cli.QoiFlowCli;
import io.qoiflow.schemas.Topics;
import io.qoiflow.simulator.replay.Scenario;
import io.qoiflow.topology.JobConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.util.ParameterTool;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.yaml.snakeyaml.Yaml;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * There is no Docker engine to run {@code docker-compose.yml}, so this test reads it and checks it
 * against the code: pinned images matching the versions in the root pom, every {@code qoiflow}
 * command parsed by the real picocli model, the job's arguments read by {@link JobConfig}, every
 * mounted path and every path an option names present in the repository, and ports and addresses
 * consistent between Kafka, Flink, Prometheus and the dashboard.
 */
class ComposeFileTest {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final String BOOTSTRAP = "kafka:9092";

  static Map<String, Object> compose;
  static Map<String, Map<String, Object>> services;
  static Map<String, String> pomProperties;

  @BeforeAll
  @SuppressWarnings("unchecked")
  static void load() throws Exception {
    compose = new Yaml().load(Files.readString(ROOT.resolve("docker-compose.yml")));
    services = (Map<String, Map<String, Object>>) compose.get("services");
    pomProperties = new LinkedHashMap<>();
    Element props =
        (Element)
            DocumentBuilderFactory.newInstance()
                .newDocumentBuilder()
                .parse(ROOT.resolve("pom.xml").toFile())
                .getDocumentElement()
                .getElementsByTagName("properties")
                .item(0);
    for (int i = 0; i < props.getChildNodes().getLength(); i++) {
      if (props.getChildNodes().item(i) instanceof Element e) {
        pomProperties.put(e.getTagName(), e.getTextContent().trim());
      }
    }
  }

  @Test
  void hasTheWholeStack() {
    assertThat(services)
        .containsKeys(
            "kafka",
            "topics",
            "jobmanager",
            "taskmanager",
            "taskmanager-gpu",
            "submit-job",
            "replay",
            "prometheus",
            "dashboard");
  }

  @Test
  void everyImageIsPinnedToTheProjectsVersions() throws IOException {
    for (Map.Entry<String, Map<String, Object>> s : services.entrySet()) {
      String image = (String) s.getValue().get("image");
      assertThat(image).as(s.getKey() + " image").isNotNull();
      assertPinned(s.getKey(), image);
    }
    assertThat(image("kafka")).isEqualTo("apache/kafka:" + pomProperties.get("kafka.version"));
    Map<String, Object> flinkArgs = buildArgs("taskmanager");
    assertThat(flinkArgs.get("FLINK_IMAGE"))
        .isEqualTo("flink:" + pomProperties.get("flink.version") + "-scala_2.12-java17");
    assertThat(String.valueOf(flinkArgs.get("ORT_VERSION")))
        .isEqualTo(pomProperties.get("onnxruntime.version"));
    // The images built here: their FROM lines (ARG defaults resolved) are pinned too.
    Map<String, Object> build = build("taskmanager");
    Path dockerfile = ROOT.resolve((String) build.get("dockerfile"));
    List<String> lines = Files.readAllLines(dockerfile);
    Map<String, String> args = new LinkedHashMap<>();
    for (String line : lines) {
      Matcher arg = Pattern.compile("^ARG (\\w+)=(\\S+)").matcher(line);
      if (arg.find()) {
        args.put(arg.group(1), arg.group(2));
      }
    }
    assertThat(args.get("FLINK_IMAGE")).isEqualTo(flinkArgs.get("FLINK_IMAGE"));
    List<String> targets = new ArrayList<>();
    for (String line : lines) {
      Matcher from = Pattern.compile("^FROM (\\S+)(?: AS (\\w+))?").matcher(line);
      if (from.find()) {
        String base = from.group(1);
        Matcher ref = Pattern.compile("^\\$\\{(\\w+)}$").matcher(base);
        if (ref.find()) {
          base = args.get(ref.group(1));
        }
        assertPinned(dockerfile + ": " + line, base);
        targets.add(from.group(2));
      }
    }
    for (String s : services.keySet()) {
      Map<String, Object> b = build(s);
      if (b != null) {
        assertThat(targets).as(s + " build target").contains((String) b.get("target"));
        assertThat(ROOT.resolve((String) b.get("context")).normalize()).isEqualTo(ROOT);
      }
    }
  }

  @Test
  void qoiflowCommandsParseWithTheRealCli() throws IOException {
    int parsed = 0;
    for (String name : services.keySet()) {
      if (!"cli".equals(build(name) == null ? null : build(name).get("target"))) {
        continue;
      }
      List<String> args = command(name);
      ParseResult pr = QoiFlowCli.commandLine().parseArgs(args.toArray(String[]::new));
      assertThat(pr.hasSubcommand()).as(name).isTrue();
      ParseResult sub = pr.subcommand();
      for (OptionSpec o : sub.matchedOptions()) {
        if (o.longestName().equals("--bootstrap")) {
          assertThat((String) o.getValue()).as(name + " --bootstrap").isEqualTo(BOOTSTRAP);
        }
        if (o.type() == Path.class) {
          Path host = hostPath(name, o.getValue().toString());
          assertThat(host).as(name + " " + o.longestName()).exists();
        }
      }
      parsed++;
    }
    assertThat(parsed).isGreaterThanOrEqualTo(3);

    // The replay plays a valid scenario and publishes the truth the dashboard draws.
    ParseResult replay =
        QoiFlowCli.commandLine().parseArgs(command("replay").toArray(String[]::new));
    assertThat(replay.subcommand().commandSpec().name()).isEqualTo("replay");
    assertThat(replay.subcommand().hasMatchedOption("--truth")).isTrue();
    Path scenario =
        hostPath(
            "replay", replay.subcommand().matchedOptionValue("--scenario", (Path) null).toString());
    assertThat(Scenario.load(scenario).durationS()).isPositive();

    // The topics service creates the standard set, so every topic the job, the replay and the
    // dashboard use exists (the broker does not create topics on its own).
    ParseResult topics =
        QoiFlowCli.commandLine().parseArgs(command("topics").toArray(String[]::new));
    assertThat(topics.subcommand().commandSpec().name()).isEqualTo("topics");
    assertThat(topics.subcommand().hasMatchedOption("--only")).isFalse();
    assertThat(env("kafka").get("KAFKA_AUTO_CREATE_TOPICS_ENABLE")).isEqualTo("false");
    assertThat(Topics.all(1))
        .containsKeys(io.qoiflow.dashboard.Dashboard.TOPICS.toArray(String[]::new));
  }

  @Test
  void theJobIsSubmittedWithArgumentsItKnows() throws IOException {
    String script = String.join(" ", command("submit-job")).replaceAll("\\s+", " ");
    Matcher run = Pattern.compile("flink run -m (\\S+) -d (\\S+\\.jar) (.*)$").matcher(script);
    assertThat(run.find()).as(script).isTrue();
    assertThat(run.group(1)).isEqualTo("jobmanager:" + flinkProperties().get("rest.port"));
    // The jar is the shaded job jar the Dockerfile copies to that path.
    String dockerfile =
        Files.readString(ROOT.resolve((String) build("submit-job").get("dockerfile")));
    assertThat(dockerfile)
        .containsPattern("COPY --from=build [^\\n]*/out/qoiflow-job.jar " + run.group(2));
    String topologyPom = Files.readString(ROOT.resolve("topology/pom.xml"));
    assertThat(topologyPom).contains("<shadedClassifierName>job</shadedClassifierName>");
    assertThat(dockerfile).contains("cp topology/target/qoiflow-topology-*-job.jar");
    assertThat(topologyPom).contains("<artifactId>qoiflow-topology</artifactId>");

    String[] jobArgs = run.group(3).trim().split(" ");
    ParameterTool p = ParameterTool.fromArgs(jobArgs);
    // Fails on any argument the job does not know.
    JobConfig config = JobConfig.fromParameters(p);
    assertThat(config.bootstrap()).isEqualTo(BOOTSTRAP);
    // The model is mounted on the submitter (the job's main reads its manifest) and the
    // TaskManager.
    for (String s : List.of("submit-job", "taskmanager")) {
      assertThat(hostPath(s, config.modelDir()).resolve("manifest.json")).as(s).exists();
      assertThat(config.qaModelDir()).as("the QA stage is on").isNotNull();
      assertThat(hostPath(s, config.qaModelDir()).resolve("manifest.json")).as(s).exists();
    }
  }

  @Test
  void flinkHasOnnxRuntimeParentFirstThePrometheusReporterAndTheGpu() throws IOException {
    Map<String, Object> flink = flinkProperties();
    assertThat(String.valueOf(flink.get("classloader.parent-first-patterns.additional")))
        .contains("ai.onnxruntime.");
    assertThat(flink.get("metrics.reporter.prom.factory.class"))
        .isEqualTo("org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
    assertThat(flink.get("jobmanager.rpc.address")).isEqualTo("jobmanager");
    for (String s : List.of("jobmanager", "taskmanager", "submit-job")) {
      assertThat(env(s).get("FLINK_PROPERTIES"))
          .as(s)
          .isEqualTo(env("taskmanager").get("FLINK_PROPERTIES"));
      assertThat(image(s)).isEqualTo(image("taskmanager"));
    }
    String dockerfile =
        Files.readString(ROOT.resolve((String) build("taskmanager").get("dockerfile")));
    assertThat(dockerfile).contains("onnxruntime_gpu-${ORT_VERSION}.jar /opt/flink/lib/");
    @SuppressWarnings("unchecked")
    Map<String, Object> device =
        ((List<Map<String, Object>>)
                path(
                    services.get("taskmanager-gpu"),
                    "deploy",
                    "resources",
                    "reservations",
                    "devices"))
            .get(0);
    assertThat(device.get("driver")).isEqualTo("nvidia");
    assertThat(String.valueOf(device.get("capabilities"))).isEqualTo("[gpu]");

    // Prometheus scrapes the reporter's port on both Flink processes.
    String promPort = String.valueOf(flink.get("metrics.reporter.prom.port"));
    Map<String, Object> prom =
        new Yaml().load(Files.readString(hostPath("prometheus", "/etc/prometheus/prometheus.yml")));
    @SuppressWarnings("unchecked")
    List<String> targets =
        (List<String>)
            ((List<Map<String, Object>>)
                    ((List<Map<String, Object>>) prom.get("scrape_configs"))
                        .get(0)
                        .get("static_configs"))
                .get(0)
                .get("targets");
    assertThat(targets)
        .containsExactlyInAnyOrder("jobmanager:" + promPort, "taskmanager:" + promPort);
    assertThat(command("prometheus")).contains("--config.file=/etc/prometheus/prometheus.yml");
  }

  @Test
  void everyFlinkSettingIsAnOptionOfThisFlinkVersion() {
    // The keys as Flink 2.2 names them (several were renamed in 2.0; a stale key is ignored).
    Set<String> known =
        Set.of(
            JobManagerOptions.ADDRESS.key(),
            RestOptions.PORT.key(),
            TaskManagerOptions.NUM_TASK_SLOTS.key(),
            CoreOptions.DEFAULT_PARALLELISM.key(),
            TaskManagerOptions.TOTAL_PROCESS_MEMORY.key(),
            org.apache.flink.configuration.CoreOptions
                .ALWAYS_PARENT_FIRST_LOADER_PATTERNS_ADDITIONAL
                .key(),
            CheckpointingOptions.CHECKPOINTS_DIRECTORY.key(),
            "metrics.reporter.prom.factory.class",
            "metrics.reporter.prom.port");
    assertThat(known).containsAll(flinkProperties().keySet());
    // The checkpoint directory is on the volume both Flink processes mount.
    String dir = String.valueOf(flinkProperties().get("execution.checkpointing.dir"));
    for (String s : List.of("jobmanager", "taskmanager")) {
      assertThat(volumes(s)).anyMatch(v -> dir.equals("file://" + v.split(":")[1]));
    }
  }

  @Test
  void portsAndAddressesAgree() {
    // Containers reach kafka:9092; the host reaches the HOST listener it publishes.
    assertThat(env("kafka").get("KAFKA_ADVERTISED_LISTENERS"))
        .isEqualTo("PLAINTEXT://" + BOOTSTRAP + ",HOST://localhost:9094");
    assertThat(String.valueOf(env("kafka").get("KAFKA_LISTENERS")))
        .contains("PLAINTEXT://:9092")
        .contains("HOST://:9094");
    assertThat(String.valueOf(env("kafka").get("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP")))
        .contains("HOST:");
    assertThat(ports("kafka")).containsExactly(LOOPBACK + "9094:9094");
    assertThat(ports("jobmanager"))
        .contains(LOOPBACK + flinkProperties().get("rest.port") + ":8081");
    ParseResult dash =
        QoiFlowCli.commandLine().parseArgs(command("dashboard").toArray(String[]::new));
    int port = dash.subcommand().matchedOptionValue("--port", -1);
    assertThat(ports("dashboard")).contains(LOOPBACK + port + ":" + port);
    assertThat(dash.subcommand().matchedOptionValue("--bind", "")).isEqualTo("0.0.0.0");
    assertThat(ports("prometheus")).contains(LOOPBACK + "9090:9090");
  }

  static final String LOOPBACK = "127.0.0.1:";

  /** Nothing is published on all interfaces: every published port is bound to loopback. */
  @Test
  void everyPublishedPortIsOnLoopback() {
    for (String s : services.keySet()) {
      if (services.get(s).get("ports") != null) {
        assertThat(ports(s)).as(s + " ports").allMatch(p -> p.startsWith(LOOPBACK));
      }
    }
  }

  /**
   * {@code docker compose up} with no GPU starts: the default profile (.env) runs the CPU
   * TaskManager, which reserves no device; the GPU one is a profile of its own, and whoever waits
   * for a TaskManager does not require the one that is off.
   */
  @Test
  void cpuIsTheDefaultAndTheGpuAProfile() throws IOException {
    assertThat(Files.readAllLines(ROOT.resolve(".env"))).contains("COMPOSE_PROFILES=cpu");
    assertThat(services.get("taskmanager").get("profiles")).isEqualTo(List.of("cpu"));
    assertThat(services.get("taskmanager").get("deploy")).as("CPU reserves no GPU").isNull();
    assertThat(services.get("taskmanager-gpu").get("profiles")).isEqualTo(List.of("gpu"));
    assertThat(String.valueOf(services.get("taskmanager-gpu").get("networks")))
        .as("Prometheus scrapes taskmanager:9249 either way")
        .contains("aliases=[taskmanager]");
    assertThat(command("taskmanager-gpu")).isEqualTo(command("taskmanager"));
    assertThat(volumes("taskmanager-gpu")).isEqualTo(volumes("taskmanager"));
    for (String s : services.keySet()) {
      Object deps = services.get(s).get("depends_on");
      if (deps instanceof Map<?, ?> m) {
        for (String tm : List.of("taskmanager", "taskmanager-gpu")) {
          if (m.containsKey(tm)) {
            assertThat(((Map<?, ?>) m.get(tm)).get("required"))
                .as(s + " -> " + tm)
                .isEqualTo(false);
          }
        }
      } else if (deps instanceof List<?> l) {
        assertThat(l.contains("taskmanager")).as(s + " depends on a profiled service").isFalse();
      }
    }
  }

  /**
   * The official Flink image's entrypoint writes FLINK_PROPERTIES into the configuration and drops
   * to the flink user; a service that overrides it runs with neither. Wait loops end.
   */
  @Test
  void flinkServicesKeepTheImageEntrypoint() {
    for (String s : services.keySet()) {
      if (image("taskmanager").equals(image(s))) {
        assertThat(services.get(s).get("entrypoint")).as(s + " entrypoint").isNull();
      }
    }
    String script = String.join(" ", command("submit-job"));
    assertThat(script).contains("seq 1 ").contains("exit 1").doesNotContain("until ");
  }

  /**
   * Files the flink user reads or writes: built as root, owned by flink. An ADD of a URL is mode
   * 600 root unless given --chown/--chmod, and a RUN chmod under USER flink fails the build.
   */
  @Test
  void flinkImageFilesAreOwnedAndReadableByFlink() throws IOException {
    List<String> lines = flinkStage();
    String user = null;
    boolean checkpointDirOwned = false;
    String dir =
        String.valueOf(flinkProperties().get("execution.checkpointing.dir"))
            .replaceFirst("^file://", "");
    for (String line : lines) {
      if (line.startsWith("USER ")) {
        user = line.substring(5).trim();
      }
      if (line.startsWith("ADD ")) {
        assertThat(line).as(line).contains("--chown=flink:flink").contains("--chmod=644");
      }
      if (line.startsWith("RUN ") && (line.contains("chmod") || line.contains("chown"))) {
        assertThat(user).as("USER before " + line).isEqualTo("root");
      }
      if (line.startsWith("RUN ") && line.contains("mkdir -p " + dir)) {
        checkpointDirOwned = line.contains("chown flink:flink " + dir);
      }
    }
    assertThat(checkpointDirOwned)
        .as("checkpoint dir " + dir + " made and owned by flink")
        .isTrue();
    // The volume is mounted at exactly that directory.
    for (String s : List.of("jobmanager", "taskmanager")) {
      assertThat(volumes(s)).contains("checkpoints:" + dir);
    }
  }

  /** The {@code flink} stage of the Dockerfile, continuation lines joined. */
  static List<String> flinkStage() throws IOException {
    String text =
        Files.readString(ROOT.resolve((String) build("taskmanager").get("dockerfile")))
            .replaceAll("\\\\\n\\s*", " ");
    List<String> out = new ArrayList<>();
    boolean in = false;
    for (String line : text.split("\\n")) {
      if (line.startsWith("FROM ")) {
        in = line.endsWith(" AS flink");
      } else if (in && !line.isBlank() && !line.startsWith("#")) {
        out.add(line.trim());
      }
    }
    assertThat(out).as("the flink stage").isNotEmpty();
    return out;
  }

  @Test
  void everyMountedHostPathExists() {
    for (String s : services.keySet()) {
      for (String v : volumes(s)) {
        String host = v.split(":")[0];
        if (host.startsWith(".")) {
          assertThat(ROOT.resolve(host)).as(s + " volume " + v).exists();
        } else {
          assertThat(compose.get("volumes")).as(s + " named volume " + v).isNotNull();
          assertThat(((Map<?, ?>) compose.get("volumes")).containsKey(host))
              .as(s + " volume " + host)
              .isTrue();
        }
      }
    }
  }

  // ---- reading the file

  static void assertPinned(String what, String image) {
    assertThat(image).as(what).contains(":");
    String tag = image.substring(image.lastIndexOf(':') + 1);
    assertThat(tag).as(what + " tag").isNotBlank().isNotEqualTo("latest");
    assertThat(tag).as(what + " tag").matches(".*\\d.*");
  }

  static String image(String service) {
    return (String) services.get(service).get("image");
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> build(String service) {
    return (Map<String, Object>) services.get(service).get("build");
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> buildArgs(String service) {
    return (Map<String, Object>) build(service).get("args");
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> env(String service) {
    Map<String, Object> e = (Map<String, Object>) services.get(service).get("environment");
    Map<String, Object> out = new LinkedHashMap<>();
    e.forEach((k, v) -> out.put(k, String.valueOf(v)));
    return out;
  }

  static Map<String, Object> flinkProperties() {
    return new Yaml().load((String) env("taskmanager").get("FLINK_PROPERTIES"));
  }

  @SuppressWarnings("unchecked")
  static List<String> command(String service) {
    Object c = services.get(service).get("command");
    if (c instanceof String s) {
      return Arrays.asList(s.trim().split("\\s+"));
    }
    List<String> out = new ArrayList<>();
    for (Object o : (List<Object>) c) {
      out.add(String.valueOf(o));
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  static List<String> volumes(String service) {
    Object v = services.get(service).get("volumes");
    return v == null ? List.of() : (List<String>) v;
  }

  @SuppressWarnings("unchecked")
  static List<String> ports(String service) {
    return ((List<Object>) services.get(service).get("ports"))
        .stream().map(String::valueOf).toList();
  }

  /** Where a container path of {@code service} lies in the repository, through its bind mounts. */
  static Path hostPath(String service, String containerPath) {
    for (String v : volumes(service)) {
      String[] parts = v.split(":");
      String host = parts[0];
      String target = parts[1];
      if (host.startsWith(".")
          && (containerPath.equals(target) || containerPath.startsWith(target + "/"))) {
        return ROOT.resolve(host)
            .resolve(containerPath.substring(target.length()).replaceFirst("^/", ""))
            .normalize();
      }
    }
    throw new AssertionError(
        service + ": " + containerPath + " is on no bind mount of the service");
  }

  @SuppressWarnings("unchecked")
  static Object path(Map<String, Object> m, String... keys) {
    Object o = m;
    for (String k : keys) {
      o = ((Map<String, Object>) o).get(k);
    }
    return o;
  }
}
