package io.qoiflow.e2e;

import static org.awaitility.Awaitility.await;

import io.qoiflow.local.JvmProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.flink.runtime.messages.webmonitor.ClusterOverview;
import org.awaitility.core.ConditionTimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Flink standalone session cluster: a JobManager ({@code
 * StandaloneSessionClusterEntrypoint}) and one or more TaskManagers ({@code TaskManagerRunner}) as
 * separate JVMs started from the classpath a Flink distribution's {@code lib/} would hold (ONNX
 * Runtime included, resolved parent-first), with {@code conf/config.yaml} on loopback free ports,
 * memory flags from {@code BashJavaUtils}, and the {@code --add-opens} flags of Flink's own
 * scripts. Every JVM is stopped by PID on {@link #close()} (and by a shutdown hook if the test JVM
 * exits first).
 */
public final class FlinkCluster implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FlinkCluster.class);

  /** What Flink's {@code config.yaml} puts into {@code env.java.opts.all} for Java 17. */
  static final List<String> ADD_OPENS =
      List.of(
          "--add-exports=java.base/sun.net.util=ALL-UNNAMED",
          "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
          "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
          "--add-opens=java.base/java.lang=ALL-UNNAMED",
          "--add-opens=java.base/java.net=ALL-UNNAMED",
          "--add-opens=java.base/java.io=ALL-UNNAMED",
          "--add-opens=java.base/java.nio=ALL-UNNAMED",
          "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
          "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
          "--add-opens=java.base/java.text=ALL-UNNAMED",
          "--add-opens=java.base/java.time=ALL-UNNAMED",
          "--add-opens=java.base/java.util=ALL-UNNAMED",
          "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
          "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
          "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED");

  private final Path workDir;
  private final Path confDir;
  private final String classpath;
  private final int restPort;
  private final int slots;
  private final FlinkRest rest;
  private final List<JvmProcess> allProcesses = new ArrayList<>();
  private JvmProcess jobManager;
  private JvmProcess taskManager;
  private int taskManagerStarts;
  private List<String> tmJvmFlags;
  private List<String> tmDynamicProps;

  private FlinkCluster(Path workDir, String classpath, int slots) {
    this.workDir = workDir;
    this.confDir = workDir.resolve("conf");
    this.classpath = classpath;
    this.slots = slots;
    this.restPort = JvmProcess.freePort();
    this.rest = new FlinkRest("127.0.0.1", restPort);
  }

  /** The cluster's classpath: the file the e2e pom writes from the `provided` scope. */
  public static String clusterClasspath() {
    String file = System.getProperty("qoiflow.flink.classpath.file");
    if (file == null) {
      throw new IllegalStateException("system property qoiflow.flink.classpath.file is not set");
    }
    try {
      return Files.readString(Path.of(file), StandardCharsets.UTF_8).trim();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes the configuration and starts a JobManager and one TaskManager; waits for the slots. */
  public static FlinkCluster start(Path workDir, int slots) {
    return start(workDir, slots, 1);
  }

  /**
   * Writes the configuration and starts a JobManager and {@code taskManagers} TaskManager JVMs of
   * {@code slots} slots each; waits until the JobManager sees them all.
   */
  public static FlinkCluster start(Path workDir, int slots, int taskManagers) {
    FlinkCluster cluster = new FlinkCluster(workDir, clusterClasspath(), slots);
    try {
      cluster.writeConfig();
      cluster.startJobManager();
      for (int i = 0; i < taskManagers; i++) {
        cluster.startTaskManager();
      }
      cluster.awaitTaskManagers(taskManagers, 180);
      return cluster;
    } catch (RuntimeException e) {
      cluster.close();
      throw e;
    }
  }

  public FlinkRest rest() {
    return rest;
  }

  public Path workDir() {
    return workDir;
  }

  public Path savepointDir() {
    return workDir.resolve("savepoints");
  }

  /** The TaskManager started last. */
  public JvmProcess taskManager() {
    return taskManager;
  }

  /** Every TaskManager JVM started so far that is still alive, in start order. */
  public List<JvmProcess> liveTaskManagers() {
    return allProcesses.stream().filter(p -> p != jobManager && p.isAlive()).toList();
  }

  public JvmProcess jobManager() {
    return jobManager;
  }

  private void writeConfig() {
    try {
      Files.createDirectories(confDir);
      Files.createDirectories(workDir.resolve("checkpoints"));
      Files.createDirectories(savepointDir());
      Files.createDirectories(workDir.resolve("tmp"));
      Files.createDirectories(workDir.resolve("upload"));
      String yaml =
          String.join(
              "\n",
              "jobmanager.rpc.address: 127.0.0.1",
              "jobmanager.rpc.port: " + JvmProcess.freePort(),
              "jobmanager.bind-host: 127.0.0.1",
              "taskmanager.bind-host: 127.0.0.1",
              "taskmanager.host: 127.0.0.1",
              "rest.address: 127.0.0.1",
              "rest.bind-address: 127.0.0.1",
              "rest.port: " + restPort,
              "blob.server.port: " + JvmProcess.freePort(),
              "jobmanager.memory.process.size: 1024m",
              "taskmanager.memory.process.size: 2048m",
              "taskmanager.numberOfTaskSlots: " + slots,
              // Direct memory for what is not Flink's: the Kafka clients' socket reads go through
              // the JDK's per-thread temporary direct buffers, as large as a fetch response.
              "taskmanager.memory.task.off-heap.size: 128m",
              "parallelism.default: " + slots,
              // ONNX Runtime sits on the cluster classpath (lib/); load it once per TaskManager.
              "classloader.parent-first-patterns.additional: \"ai.onnxruntime.\"",
              "state.backend.type: hashmap",
              "execution.checkpointing.dir: " + workDir.resolve("checkpoints").toUri(),
              "state.savepoints.dir: " + savepointDir().toUri(),
              "state.checkpoints.num-retained: 2",
              // Survive TaskManager kills and broker outages: restart, every second, many times.
              "restart-strategy.type: fixed-delay",
              "restart-strategy.fixed-delay.attempts: 1000",
              "restart-strategy.fixed-delay.delay: 1 s",
              // Notice a killed TaskManager within seconds, not the default 50 s.
              "heartbeat.interval: 1000",
              "heartbeat.timeout: 6000",
              "heartbeat.rpc-failure-threshold: 2",
              "slot.request.timeout: 120000",
              "io.tmp.dirs: " + workDir.resolve("tmp"),
              "web.upload.dir: " + workDir.resolve("upload"),
              "web.submit.enable: true",
              "rest.server.max-content-length: 209715200",
              "rest.client.max-content-length: 209715200",
              "");
      Files.writeString(confDir.resolve("config.yaml"), yaml, StandardCharsets.UTF_8);
      Files.writeString(
          confDir.resolve("log4j.properties"),
          String.join(
              "\n",
              "rootLogger.level=INFO",
              "rootLogger.appenderRef.out.ref=OUT",
              "appender.out.type=Console",
              "appender.out.name=OUT",
              "appender.out.layout.type=PatternLayout",
              "appender.out.layout.pattern=%d{HH:mm:ss,SSS} %-5p %-40c{1} %m%n",
              "logger.kafka.name=org.apache.kafka",
              "logger.kafka.level=WARN",
              "logger.pekko.name=org.apache.pekko",
              "logger.pekko.level=WARN",
              ""),
          StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code BashJavaUtils <command> --configDir conf}: line 1 JVM flags, line 2 -D properties. */
  private List<String> bashJavaUtils(String command) {
    String name = "bash-java-utils-" + command.toLowerCase();
    try (JvmProcess p =
        JvmProcess.start(
            name,
            workDir,
            classpath,
            List.of("-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"),
            "org.apache.flink.runtime.util.bash.BashJavaUtils",
            List.of(command, "--configDir", confDir.toString()))) {
      await(name + " exited")
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(100))
          .until(() -> !p.isAlive());
      List<String> lines = new ArrayList<>();
      for (String line : p.logTail(1 << 20).split("\n")) {
        int at = line.indexOf("BASH_JAVA_UTILS_EXEC_RESULT:");
        if (at >= 0) {
          lines.add(line.substring(at + "BASH_JAVA_UTILS_EXEC_RESULT:".length()).trim());
        }
      }
      if (lines.isEmpty()) {
        throw new IllegalStateException(
            "BashJavaUtils " + command + " failed:\n" + p.logTail(4000));
      }
      return lines;
    }
  }

  private static List<String> tokens(String s) {
    return s.isBlank() ? List.of() : Arrays.asList(s.trim().split("\\s+"));
  }

  private List<String> jvmOptions(List<String> memoryFlags, String role) {
    List<String> opts = new ArrayList<>(memoryFlags);
    opts.add("-XX:+UseG1GC");
    opts.add("-Dlog4j.configurationFile=" + confDir.resolve("log4j.properties").toUri());
    opts.add("-Dlog4j2.configurationFile=" + confDir.resolve("log4j.properties").toUri());
    opts.add("-Dlog.file=" + workDir.resolve(role + ".flink.log"));
    opts.addAll(ADD_OPENS);
    return opts;
  }

  private void startJobManager() {
    List<String> params = bashJavaUtils("GET_JM_RESOURCE_PARAMS");
    List<String> args = new ArrayList<>(List.of("--configDir", confDir.toString()));
    if (params.size() > 1) {
      args.addAll(tokens(params.get(1)));
    }
    jobManager =
        JvmProcess.start(
            "jobmanager",
            workDir,
            classpath,
            jvmOptions(tokens(params.get(0)), "jobmanager"),
            "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",
            args);
    allProcesses.add(jobManager);
    try {
      await("JobManager REST up")
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(300))
          .ignoreExceptionsMatching(e -> !(e instanceof JobManagerExited))
          .until(
              () -> {
                if (!jobManager.isAlive()) {
                  throw new JobManagerExited(jobManager.logTail(6000));
                }
                rest.overview();
                return true;
              });
    } catch (ConditionTimeoutException e) {
      throw new IllegalStateException("JobManager REST not up:\n" + jobManager.logTail(6000), e);
    }
    LOG.info("JobManager up (pid {}) at {}", jobManager.pid(), rest.base());
  }

  /** The JobManager JVM ended while the tests waited for it. */
  private static final class JobManagerExited extends IllegalStateException {
    JobManagerExited(String logTail) {
      super("JobManager exited:\n" + logTail);
    }
  }

  /** Starts a (new) TaskManager JVM. */
  public void startTaskManager() {
    if (tmJvmFlags == null) {
      List<String> params = bashJavaUtils("GET_TM_RESOURCE_PARAMS");
      tmJvmFlags = tokens(params.get(0));
      tmDynamicProps = params.size() > 1 ? tokens(params.get(1)) : List.of();
    }
    List<String> args = new ArrayList<>(List.of("--configDir", confDir.toString()));
    args.addAll(tmDynamicProps);
    taskManagerStarts++;
    List<String> opts = new ArrayList<>(jvmOptions(tmJvmFlags, "taskmanager-" + taskManagerStarts));
    // Without a cap, every Kafka client thread keeps its largest read (up to a fetch response,
    // megabytes of frames) as a cached direct buffer; after rescales and restarts the TaskManagers
    // ran out of direct memory (scale-out e2e test, docs/OPERATIONS.md).
    opts.add("-Djdk.nio.maxCachedBufferSize=262144");
    taskManager =
        JvmProcess.start(
            "taskmanager-" + taskManagerStarts,
            workDir,
            classpath,
            opts,
            "org.apache.flink.runtime.taskexecutor.TaskManagerRunner",
            args);
    allProcesses.add(taskManager);
    LOG.info("TaskManager #{} started (pid {})", taskManagerStarts, taskManager.pid());
  }

  /** {@code kill -9} of the TaskManager JVM, as a crash would. */
  public long killTaskManager() {
    long pid = taskManager.pid();
    taskManager.kill();
    LOG.info("TaskManager pid {} killed (SIGKILL)", pid);
    return pid;
  }

  /** Waits until the JobManager sees exactly {@code n} TaskManagers. */
  public void awaitTaskManagers(int n, int seconds) {
    await(n + " TaskManagers with " + n * slots + " slots")
        .atMost(Duration.ofSeconds(seconds))
        .pollInterval(Duration.ofMillis(300))
        .until(
            () -> {
              if (taskManager != null && !taskManager.isAlive()) {
                throw new IllegalStateException(
                    "TaskManager exited:\n" + taskManager.logTail(6000));
              }
              if (!jobManager.isAlive()) {
                throw new IllegalStateException("JobManager exited:\n" + jobManager.logTail(6000));
              }
              ClusterOverview overview = rest.overview();
              return overview.getNumTaskManagersConnected() == n
                  && overview.getNumSlotsTotal() == n * slots;
            });
  }

  /** Resident set size of the TaskManager JVM in MiB, from /proc. */
  public long taskManagerRssMb() {
    return rssMb(taskManager);
  }

  /** Resident set size of a JVM in MiB, from /proc; -1 when it cannot be read. */
  public static long rssMb(JvmProcess process) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", process.pid() + "", "status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
        }
      }
    } catch (IOException e) {
      return -1;
    }
    return -1;
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Stops every JVM this cluster started, TaskManagers first, by PID. */
  @Override
  public void close() {
    rest.close();
    for (int i = allProcesses.size() - 1; i >= 0; i--) {
      JvmProcess p = allProcesses.get(i);
      try {
        p.close();
      } catch (RuntimeException e) {
        LOG.warn("stopping {} failed", p.pid(), e);
      }
    }
  }
}
