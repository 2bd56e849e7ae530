package io.qoiflow.e2e;

import io.qoiflow.records.DeadLetter;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.schemas.SingleObjectSerde;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What every e2e test class does the same way: teardown, keeping the JVMs' logs, dead letters. */
final class E2eHarness {
  private static final Logger LOG = LoggerFactory.getLogger(E2eHarness.class);
  private static final SingleObjectSerde<SensorFrame> FRAMES =
      SingleObjectSerde.forClass(SensorFrame.class);

  private E2eHarness() {}

  /** Closes each non-null resource in order; a failure is logged and the rest still close. */
  static void closeAll(AutoCloseable... resources) {
    for (AutoCloseable c : resources) {
      if (c != null) {
        try {
          c.close();
        } catch (Exception e) {
          LOG.warn("teardown of {} failed", c, e);
        }
      }
    }
  }

  /** Copies the JVMs' logs (and config.yaml) to {@code logs}, then deletes {@code work}. */
  static void keepLogsAndDelete(Path work, Path logs) {
    if (work == null) {
      return;
    }
    try (Stream<Path> files = Files.walk(work)) {
      Files.createDirectories(logs);
      for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
        String name = f.getFileName().toString();
        if (Files.isRegularFile(f) && (name.endsWith(".log") || name.equals("config.yaml"))) {
          Files.copy(f, logs.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        }
        Files.deleteIfExists(f);
      }
    } catch (IOException e) {
      LOG.warn("cannot clean up {}", work, e);
    }
  }

  /** The rig of a dead-lettered frame, or null when its bytes are not a decodable frame. */
  static String rigOf(DeadLetter dl) {
    try {
      java.nio.ByteBuffer b = dl.getOriginalBytes().duplicate();
      byte[] bytes = new byte[b.remaining()];
      b.get(bytes);
      return FRAMES.decode(bytes).getRigId();
    } catch (io.qoiflow.schemas.WireFormatException | RuntimeException notAFrame) {
      return null;
    }
  }
}
