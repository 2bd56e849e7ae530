package io.qoiflow.local;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM started from this JVM's own resolved classpath, passed by {@code @argfile} (long
 * command lines break some native libraries, and the classpath of a Maven build is long), and
 * stopped by PID: SIGTERM, then SIGKILL after a grace period. A shutdown hook stops it too.
 */
public final class JvmProcess implements AutoCloseable {
  private final String name;
  private final Process process;
  private final Thread shutdownHook;
  private final Path logFile;

  private JvmProcess(String name, Process process, Path logFile) {
    this.name = name;
    this.process = process;
    this.logFile = logFile;
    this.shutdownHook = new Thread(this::destroy, "stop-" + name);
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /**
   * Starts {@code mainClass} in a new JVM.
   *
   * @param workDir folder for the argfile and the process log ({@code <name>.log})
   */
  public static JvmProcess start(
      String name,
      Path workDir,
      String classpath,
      List<String> jvmOptions,
      String mainClass,
      List<String> args) {
    try {
      Files.createDirectories(workDir);
      Path argFile = workDir.resolve(name + ".args");
      // Argfile syntax: quote the classpath so spaces in paths survive.
      String cp = classpath.replace("\\", "\\\\").replace("\"", "\\\"");
      Files.writeString(argFile, "-cp \"" + cp + "\"\n", StandardCharsets.UTF_8);
      List<String> command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.addAll(jvmOptions);
      command.add("@" + argFile);
      command.add(mainClass);
      command.addAll(args);
      Path log = workDir.resolve(name + ".log");
      Process p =
          new ProcessBuilder(command)
              .directory(workDir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .start();
      return new JvmProcess(name, p, log);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name, e);
    }
  }

  /**
   * The classpath of the running JVM. Under Surefire/Failsafe {@code java.class.path} may be a
   * manifest-only jar, so their {@code surefire.test.class.path} is preferred when present.
   */
  public static String currentClasspath() {
    String surefire = System.getProperty("surefire.test.class.path");
    String cp =
        surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
    return String.join(File.pathSeparator, cp.split(File.pathSeparator));
  }

  /** A TCP port that was free on the loopback interface a moment ago. */
  public static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public Path logFile() {
    return logFile;
  }

  /** The last {@code maxChars} characters of the process log, for error messages. */
  public String logTail(int maxChars) {
    try {
      String text = Files.readString(logFile, StandardCharsets.UTF_8);
      return text.length() <= maxChars ? text : text.substring(text.length() - maxChars);
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  /** Sends SIGKILL, as a crash would. */
  public void kill() {
    process.destroyForcibly();
    waitFor(30);
  }

  private void destroy() {
    if (!process.isAlive()) {
      return;
    }
    process.destroy();
    if (!waitFor(20)) {
      process.destroyForcibly();
      waitFor(10);
    }
  }

  private boolean waitFor(int seconds) {
    try {
      return process.waitFor(seconds, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  @Override
  public void close() {
    destroy();
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException alreadyShuttingDown) {
      // The hook is running or has run; nothing to remove.
    }
  }
}
