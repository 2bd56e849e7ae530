package io.qoiflow.simulator.png;

import io.qoiflow.records.CorruptionLabel;
import io.qoiflow.records.LabelledSample;
import io.qoiflow.records.ObjectState;
import io.qoiflow.records.QaPair;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.schemas.SensorContract;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * Writes one PNG per modality per sample, upscaled so a person can look: {@code NNNNN_camera.png}
 * (RGB x8), {@code _depth} (x8, near = bright, no return = black), {@code _mmwave} (power | radial
 * velocity, x8, near range at the bottom), {@code _lidar} (range over intensity, x3 by x12), {@code
 * _audio} (left | right, x6, low frequencies at the bottom), plus {@code NNNNN_truth.txt} with the
 * ground truth.
 */
public final class PngGallery {
  private final Path dir;

  public PngGallery(Path dir) throws IOException {
    this.dir = dir;
    Files.createDirectories(dir);
  }

  public void write(LabelledSample s) throws IOException {
    String stem = String.format(Locale.ROOT, "%05d", s.getIndex());
    for (SensorFrame f : s.getFrames()) {
      float[] v = SensorContract.values(f);
      BufferedImage img =
          switch (f.getModality()) {
            case CAMERA -> camera(v);
            case DEPTH -> depth(v);
            case MMWAVE -> mmwave(v);
            case LIDAR -> lidar(v);
            case AUDIO -> audio(v);
          };
      String name = stem + "_" + f.getModality().name().toLowerCase(Locale.ROOT) + ".png";
      ImageIO.write(img, "png", dir.resolve(name).toFile());
    }
    StringBuilder sb = new StringBuilder();
    for (ObjectState o : s.getTruth().getObjects()) {
      sb.append(
          String.format(
              Locale.ROOT,
              "%s %-10s x=%7.1f y=%7.1f v=(%6.1f,%6.1f) %s%n",
              o == s.getTruth().getObjects().get(0) ? "target    " : "distractor",
              o.getClassName(),
              o.getXCm(),
              o.getYCm(),
              o.getVxCmS(),
              o.getVyCmS(),
              o.getStatus()));
    }
    for (CorruptionLabel c : s.getTruth().getCorruptions()) {
      sb.append(
          String.format(
              Locale.ROOT, "corruption %s %s %.2f%n", c.getModality(), c.getType(), c.getLevel()));
    }
    for (QaPair q : s.getTruth().getQuestions()) {
      sb.append(q.getQuestionType()).append(": ").append(q.getQuestion());
      sb.append(" -> ").append(q.getAnswer()).append('\n');
    }
    Files.writeString(dir.resolve(stem + "_truth.txt"), sb.toString(), StandardCharsets.UTF_8);
  }

  static BufferedImage camera(float[] v) {
    int n = 48;
    int s = 8;
    BufferedImage img = new BufferedImage(n * s, n * s, BufferedImage.TYPE_INT_RGB);
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        int p = i * n + j;
        int rgb = ((int) v[p] << 16) | ((int) v[n * n + p] << 8) | (int) v[2 * n * n + p];
        fill(img, j * s, i * s, s, s, rgb);
      }
    }
    return img;
  }

  static BufferedImage depth(float[] v) {
    int n = 48;
    int s = 8;
    BufferedImage img = new BufferedImage(n * s, n * s, BufferedImage.TYPE_INT_RGB);
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        float mm = v[i * n + j];
        int rgb = mm == 0 ? 0 : heat(1 - (mm - 4500) / 7000.0);
        fill(img, j * s, i * s, s, s, rgb);
      }
    }
    return img;
  }

  static BufferedImage mmwave(float[] v) {
    int n = 32;
    int s = 8;
    int gap = 8;
    BufferedImage img = new BufferedImage(2 * n * s + gap, n * s, BufferedImage.TYPE_INT_RGB);
    for (int r = 0; r < n; r++) {
      for (int a = 0; a < n; a++) {
        int y = (n - 1 - r) * s;
        fill(img, a * s, y, s, s, heat(v[r * n + a] / 45.0));
        fill(img, n * s + gap + a * s, y, s, s, diverging(v[n * n + r * n + a] / 4.0));
      }
    }
    return img;
  }

  static BufferedImage lidar(float[] v) {
    int b = 16;
    int a = 128;
    int sx = 3;
    int sy = 12;
    int gap = 8;
    BufferedImage img = new BufferedImage(a * sx, 2 * b * sy + gap, BufferedImage.TYPE_INT_RGB);
    for (int i = 0; i < b; i++) {
      for (int j = 0; j < a; j++) {
        float range = v[i * a + j];
        fill(img, j * sx, i * sy, sx, sy, range == 0 ? 0 : heat(1 - (range - 2) / 11.0));
        fill(img, j * sx, b * sy + gap + i * sy, sx, sy, grey(v[b * a + i * a + j]));
      }
    }
    return img;
  }

  static BufferedImage audio(float[] v) {
    int m = 32;
    int t = 48;
    int s = 6;
    int gap = 8;
    BufferedImage img = new BufferedImage(2 * t * s + gap, m * s, BufferedImage.TYPE_INT_RGB);
    for (int c = 0; c < 2; c++) {
      for (int b = 0; b < m; b++) {
        for (int k = 0; k < t; k++) {
          double x = (v[(c * m + b) * t + k] - 10) / 60.0;
          fill(img, c * (t * s + gap) + k * s, (m - 1 - b) * s, s, s, heat(x));
        }
      }
    }
    return img;
  }

  private static void fill(BufferedImage img, int x0, int y0, int w, int h, int rgb) {
    for (int y = y0; y < y0 + h; y++) {
      for (int x = x0; x < x0 + w; x++) {
        img.setRGB(x, y, rgb);
      }
    }
  }

  /** Black-red-yellow-white heat map of x in [0, 1]. */
  static int heat(double x) {
    x = Math.max(0, Math.min(1, x));
    int r = (int) (255 * Math.min(1, 3 * x));
    int g = (int) (255 * Math.max(0, Math.min(1, 3 * x - 1)));
    int b = (int) (255 * Math.max(0, Math.min(1, 3 * x - 2)));
    return (r << 16) | (g << 8) | b;
  }

  /** Blue-white-red map of x in [-1, 1]. */
  static int diverging(double x) {
    x = Math.max(-1, Math.min(1, x));
    int r = x > 0 ? 255 : (int) (255 * (1 + x));
    int b = x < 0 ? 255 : (int) (255 * (1 - x));
    int g = (int) (255 * (1 - Math.abs(x)));
    return (r << 16) | (g << 8) | b;
  }

  static int grey(double x) {
    int g = (int) (255 * Math.max(0, Math.min(1, x)));
    return (g << 16) | (g << 8) | g;
  }
}
