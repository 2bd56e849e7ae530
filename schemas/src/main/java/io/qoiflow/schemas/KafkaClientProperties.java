package io.qoiflow.schemas;

import java.io.IOException;
import java.io.Reader;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The Kafka client settings of every client the project makes (the job's sources and sinks, the
 * CLI's admin, producers and consumers): the one place that reads and merges them. Flink users'
 * way: {@code --kafka-properties FILE} (a Java properties file, as for {@code kafka-console-*
 * --command-config}), then {@code --kafka.<property> value} arguments, then {@code --bootstrap}.
 * Later wins. Any client property passes through: {@code security.protocol}, {@code sasl.*}, {@code
 * ssl.*}, timeouts. A client's own defaults (e.g. {@code isolation.level}) go under these with
 * {@link #over(Map)}.
 */
public final class KafkaClientProperties implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Argument prefix of one client property: {@code --kafka.security.protocol SASL_SSL}. */
  public static final String PREFIX = "kafka.";

  /** Argument naming a properties file. */
  public static final String FILE = "kafka-properties";

  public static final String BOOTSTRAP_SERVERS = "bootstrap.servers";

  private final TreeMap<String, String> properties;

  private KafkaClientProperties(Map<String, String> properties) {
    this.properties = new TreeMap<>(properties);
  }

  /**
   * @param bootstrap {@code --bootstrap}, or null to take {@code bootstrap.servers} from the file
   *     or a {@code --kafka.bootstrap.servers} argument
   * @param file {@code --kafka-properties}, or null
   * @param overrides client properties by name (without the {@code kafka.} prefix)
   * @throws IllegalArgumentException when no bootstrap servers are given anywhere
   */
  public static KafkaClientProperties of(
      String bootstrap, Path file, Map<String, String> overrides) {
    Map<String, String> merged = new TreeMap<>();
    if (file != null) {
      merged.putAll(readFile(file));
    }
    merged.putAll(overrides);
    if (bootstrap != null && !bootstrap.isBlank()) {
      merged.put(BOOTSTRAP_SERVERS, bootstrap);
    }
    String servers = merged.get(BOOTSTRAP_SERVERS);
    if (servers == null || servers.isBlank()) {
      throw new IllegalArgumentException(
          "no Kafka bootstrap servers: give --bootstrap HOST:PORT, --kafka.bootstrap.servers or"
              + " bootstrap.servers in --kafka-properties");
    }
    return new KafkaClientProperties(merged);
  }

  /** Only bootstrap servers: a local broker, tests. */
  public static KafkaClientProperties bootstrap(String bootstrap) {
    return of(bootstrap, null, Map.of());
  }

  /**
   * From {@code --key value} arguments already split into a map (Flink's {@code ParameterTool}):
   * {@code bootstrap}, {@code kafka-properties} and every {@code kafka.*} key.
   */
  public static KafkaClientProperties fromArguments(Map<String, String> arguments) {
    Map<String, String> overrides = new TreeMap<>();
    arguments.forEach(
        (k, v) -> {
          if (k.startsWith(PREFIX) && k.length() > PREFIX.length()) {
            overrides.put(k.substring(PREFIX.length()), v);
          }
        });
    String file = arguments.get(FILE);
    return of(arguments.get("bootstrap"), file == null ? null : Path.of(file), overrides);
  }

  /**
   * Command lines parsed by picocli take {@code --kafka KEY=VALUE}; this rewrites the Flink-style
   * {@code --kafka.KEY VALUE} and {@code --kafka.KEY=VALUE} into that form so both work alike.
   */
  public static String[] rewriteDottedArguments(String[] args) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--")) {
        Collections.addAll(out, java.util.Arrays.copyOfRange(args, i, args.length));
        break;
      }
      if (a.startsWith("--" + PREFIX) && a.length() > 2 + PREFIX.length()) {
        String rest = a.substring(2 + PREFIX.length());
        int eq = rest.indexOf('=');
        if (eq >= 0) {
          out.add("--kafka");
          out.add(rest);
        } else if (i + 1 < args.length) {
          out.add("--kafka");
          out.add(rest + "=" + args[++i]);
        } else {
          throw new IllegalArgumentException("--" + PREFIX + rest + " needs a value");
        }
      } else {
        out.add(a);
      }
    }
    return out.toArray(String[]::new);
  }

  public String bootstrapServers() {
    return properties.get(BOOTSTRAP_SERVERS);
  }

  /** A fresh copy for a client. */
  public Properties toProperties() {
    Properties p = new Properties();
    p.putAll(properties);
    return p;
  }

  /** {@code defaults} (a client's own settings) with these properties over them. */
  public Properties over(Map<String, ?> defaults) {
    Properties p = new Properties();
    p.putAll(defaults);
    p.putAll(properties);
    return p;
  }

  /** As a map, for comparison and tests. */
  public Map<String, String> asMap() {
    return Collections.unmodifiableMap(properties);
  }

  /** For logs: secrets ({@code *password*}, {@code sasl.jaas.config}) replaced by {@code ***}. */
  @Override
  public String toString() {
    Map<String, String> shown = new TreeMap<>();
    properties.forEach((k, v) -> shown.put(k, isSecret(k) ? "***" : v));
    return shown.toString();
  }

  static boolean isSecret(String key) {
    String k = key.toLowerCase(java.util.Locale.ROOT);
    return k.contains("password")
        || k.contains("jaas")
        || k.endsWith(".key")
        || k.contains("secret");
  }

  private static Map<String, String> readFile(Path file) {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(file)) {
      p.load(r);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read --kafka-properties " + file, e);
    }
    Map<String, String> m = new TreeMap<>();
    p.stringPropertyNames().forEach(k -> m.put(k, p.getProperty(k).trim()));
    return m;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof KafkaClientProperties k && k.properties.equals(properties);
  }

  @Override
  public int hashCode() {
    return properties.hashCode();
  }
}
