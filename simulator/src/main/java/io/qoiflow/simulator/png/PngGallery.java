package io.qoiflow.simulator.png;

import io.qoiflow.records.LabelledSample;
import java.io.IOException;
import java.nio.file.Path;

/** Placeholder, replaced below. */
public final class PngGallery {
  public PngGallery(Path dir) {}

  public void write(LabelledSample s) throws IOException {}
}
