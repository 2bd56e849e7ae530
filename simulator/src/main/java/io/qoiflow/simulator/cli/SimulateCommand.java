package io.qoiflow.simulator.cli;

import io.qoiflow.records.LabelledSample;
import io.qoiflow.simulator.CorruptionSpec;
import io.qoiflow.simulator.Simulator;
import io.qoiflow.simulator.png.PngGallery;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.apache.avro.file.CodecFactory;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.specific.SpecificDatumWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code qoiflow simulate}: writes labelled samples to an Avro container file and/or PNGs. */
@Command(
    name = "simulate",
    mixinStandardHelpOptions = true,
    description = {
      "Generate labelled five-modality samples (docs/SIMULATOR.md).",
      "The file holds exactly the samples of new Simulator(seed, CorruptionSpec.parse(spec))."
    })
public final class SimulateCommand implements Callable<Integer> {
  @Option(names = "--samples", defaultValue = "1000", description = "Number of samples.")
  long samples;

  @Option(names = "--seed", defaultValue = "1", description = "Simulator seed.")
  long seed;

  @Option(
      names = "--corruption",
      defaultValue = "clean",
      description =
          "clean | random | comma-separated modality:type:LO-HI (e.g."
              + " camera:lowlight:0.6-1.0,depth:noise:0-0.3,audio:off); A|B|C draws one"
              + " alternative per sample (e.g. lidar:dropout:0.6-1.0|camera:blur:0.5-1.0|clean).")
  String corruption;

  @Option(names = "--out", description = "Avro container file of LabelledSample to write.")
  Path out;

  @Option(names = "--png", description = "Directory for one PNG per modality per sample.")
  Path png;

  @Option(
      names = "--codec",
      defaultValue = "null",
      description = "Avro codec: null, deflate1..deflate9 (default ${DEFAULT-VALUE}).")
  String codec;

  @Option(names = "--quiet", description = "Do not print the throughput line.")
  boolean quiet;

  public SimulateCommand() {}

  @Override
  public Integer call() throws Exception {
    if (out == null && png == null) {
      System.err.println("simulate: give --out FILE.avro and/or --png DIR");
      return 2;
    }
    CorruptionSpec spec;
    try {
      spec = CorruptionSpec.parse(corruption);
    } catch (IllegalArgumentException e) {
      System.err.println("simulate: " + e.getMessage());
      return 2;
    }
    Simulator sim = new Simulator(seed, spec);
    PngGallery gallery = png == null ? null : new PngGallery(png);
    long start = System.nanoTime();
    DataFileWriter<LabelledSample> writer = null;
    try {
      if (out != null) {
        if (out.toAbsolutePath().getParent() != null) {
          Files.createDirectories(out.toAbsolutePath().getParent());
        }
        writer = new DataFileWriter<>(new SpecificDatumWriter<>(LabelledSample.class));
        writer.setCodec(codec(codec));
        writer.setMeta("qoiflow.seed", Long.toString(seed));
        writer.setMeta("qoiflow.corruption", spec.toString());
        writer.setMeta("qoiflow.samples", Long.toString(samples));
        writer.create(LabelledSample.getClassSchema(), new File(out.toString()));
      }
      for (long i = 0; i < samples; i++) {
        LabelledSample s = sim.next();
        if (writer != null) {
          writer.append(s);
        }
        if (gallery != null) {
          gallery.write(s);
        }
      }
    } finally {
      if (writer != null) {
        writer.close();
      }
    }
    double secs = (System.nanoTime() - start) / 1e9;
    if (!quiet) {
      System.err.printf(
          "simulate: %d samples (seed %d, corruption %s) in %.2f s = %.0f samples/s%n",
          samples, seed, spec, secs, samples / Math.max(secs, 1e-9));
    }
    return 0;
  }

  static CodecFactory codec(String name) {
    if (name.equals("null")) {
      return CodecFactory.nullCodec();
    }
    if (name.startsWith("deflate")) {
      int level = name.length() > 7 ? Integer.parseInt(name.substring(7)) : 6;
      return CodecFactory.deflateCodec(level);
    }
    throw new IllegalArgumentException("unknown codec " + name + " (null, deflate1..deflate9)");
  }
}
