package io.qoiflow.engine;

import io.qoiflow.schemas.SensorContract;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Minimal reader of NumPy {@code .npy} files holding little-endian float32 in C order. */
final class Npy {
  final int[] shape;
  final float[] data;

  private Npy(int[] shape, float[] data) {
    this.shape = shape;
    this.data = data;
  }

  static Npy read(Path p) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
    byte[] magic = new byte[6];
    b.get(magic);
    if (magic[0] != (byte) 0x93
        || !new String(magic, 1, 5, StandardCharsets.US_ASCII).equals("NUMPY")) {
      throw new IOException(p + " is not an .npy file");
    }
    int major = b.get();
    b.get();
    int headerLen = major == 1 ? Short.toUnsignedInt(b.getShort()) : b.getInt();
    byte[] h = new byte[headerLen];
    b.get(h);
    String header = new String(h, StandardCharsets.ISO_8859_1);
    if (!header.contains("'descr': '<f4'") || header.contains("'fortran_order': True")) {
      throw new IOException(p + ": expected little-endian float32 in C order, got " + header);
    }
    Matcher m = Pattern.compile("'shape': \\(([^)]*)\\)").matcher(header);
    if (!m.find()) {
      throw new IOException(p + ": no shape in header " + header);
    }
    int[] shape =
        Arrays.stream(m.group(1).split(","))
            .map(String::trim)
            .filter(s -> !s.isEmpty())
            .mapToInt(Integer::parseInt)
            .toArray();
    float[] data = new float[SensorContract.elements(shape)];
    b.asFloatBuffer().get(data);
    return new Npy(shape, data);
  }

  /** Row {@code i} along the first axis. */
  float[] row(int i) {
    int n = data.length / shape[0];
    return Arrays.copyOfRange(data, i * n, (i + 1) * n);
  }
}
