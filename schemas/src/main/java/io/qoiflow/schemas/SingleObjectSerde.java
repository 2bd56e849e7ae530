package io.qoiflow.schemas;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

/**
 * The one Kafka wire format of QoIFlow: Avro single-object encoding, i.e. {@code C3 01}, the 8-byte
 * little-endian CRC-64-AVRO fingerprint of the writer schema, then the Avro binary body.
 *
 * <p>Records written with an older version of a schema are read through Avro schema resolution when
 * that version is listed in {@code avro-history/index.txt} on the classpath. Every failure is a
 * typed {@link WireFormatException} so that callers can turn it into a dead letter with a reason.
 *
 * <p>Instances are immutable and thread-safe after construction; they are serializable (Flink ships
 * them inside functions) and rebuild their Avro state lazily.
 */
public final class SingleObjectSerde<T extends SpecificRecord> implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Header length: 2 marker bytes plus an 8-byte fingerprint. */
  public static final int HEADER_LENGTH = 10;

  private static final byte MARKER_0 = (byte) 0xC3;
  private static final byte MARKER_1 = (byte) 0x01;
  private static final String HISTORY_INDEX = "/avro-history/index.txt";

  private final Class<T> recordClass;
  private transient Schema readerSchema;
  private transient byte[] header;
  private transient SpecificDatumWriter<T> writer;
  private transient Map<Long, SpecificDatumReader<T>> readersByFingerprint;

  private SingleObjectSerde(Class<T> recordClass) {
    this.recordClass = Objects.requireNonNull(recordClass);
  }

  /** A serde for a generated record class, aware of the older versions in the history index. */
  public static <T extends SpecificRecord> SingleObjectSerde<T> forClass(Class<T> recordClass) {
    SingleObjectSerde<T> serde = new SingleObjectSerde<>(recordClass);
    serde.init();
    return serde;
  }

  public Class<T> recordClass() {
    return recordClass;
  }

  /** The current (reader) schema. */
  public Schema schema() {
    ensureInit();
    return readerSchema;
  }

  /** CRC-64-AVRO fingerprint of a schema's parsing canonical form, as written on the wire. */
  public static long fingerprint(Schema schema) {
    return SchemaNormalization.parsingFingerprint64(schema);
  }

  public byte[] encode(T record) {
    ensureInit();
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    out.write(header, 0, header.length);
    BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
    try {
      writer.write(record, encoder);
      encoder.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  public T decode(byte[] bytes) throws WireFormatException {
    ensureInit();
    if (bytes == null || bytes.length < 2) {
      throw new WireFormatException.BadMarker(
          "record of " + (bytes == null ? "null" : bytes.length + " bytes") + " has no marker");
    }
    if (bytes[0] != MARKER_0 || bytes[1] != MARKER_1) {
      throw new WireFormatException.BadMarker(
          String.format("expected marker C3 01, found %02X %02X", bytes[0], bytes[1]));
    }
    if (bytes.length < HEADER_LENGTH) {
      throw new WireFormatException.Truncated(
          "header ends after " + bytes.length + " of " + HEADER_LENGTH + " bytes", null);
    }
    long fingerprint = 0;
    for (int i = 9; i >= 2; i--) {
      fingerprint = (fingerprint << 8) | (bytes[i] & 0xFFL);
    }
    SpecificDatumReader<T> reader = readersByFingerprint.get(fingerprint);
    if (reader == null) {
      throw new WireFormatException.UnknownFingerprint(fingerprint, recordClass.getSimpleName());
    }
    BinaryDecoder decoder =
        DecoderFactory.get()
            .binaryDecoder(bytes, HEADER_LENGTH, bytes.length - HEADER_LENGTH, null);
    T record;
    try {
      record = reader.read(null, decoder);
    } catch (EOFException e) {
      throw new WireFormatException.Truncated(
          recordClass.getSimpleName() + " body ends early (" + bytes.length + " bytes)", e);
    } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException e) {
      throw new WireFormatException.CorruptBody(
          recordClass.getSimpleName() + " body does not decode: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      // Avro signals some malformed lengths with NegativeArraySize / IllegalArgument exceptions.
      throw new WireFormatException.CorruptBody(
          recordClass.getSimpleName() + " body does not decode: " + e, e);
    }
    try {
      if (!decoder.isEnd()) {
        throw new WireFormatException.CorruptBody(
            recordClass.getSimpleName() + " has trailing bytes after the record", null);
      }
    } catch (IOException e) {
      throw new WireFormatException.CorruptBody("cannot check end of record", e);
    }
    return record;
  }

  private void ensureInit() {
    if (readersByFingerprint == null) {
      init();
    }
  }

  private synchronized void init() {
    if (readersByFingerprint != null) {
      return;
    }
    Schema current = SpecificData.get().getSchema(recordClass);
    long fp = fingerprint(current);
    byte[] h = new byte[HEADER_LENGTH];
    h[0] = MARKER_0;
    h[1] = MARKER_1;
    for (int i = 0; i < 8; i++) {
      h[2 + i] = (byte) (fp >>> (8 * i));
    }
    Map<Long, SpecificDatumReader<T>> readers = new LinkedHashMap<>();
    readers.put(fp, new SpecificDatumReader<>(current, current));
    for (Schema older : historyOf(current.getFullName())) {
      readers.put(fingerprint(older), new SpecificDatumReader<>(older, current));
    }
    this.readerSchema = current;
    this.header = h;
    this.writer = new SpecificDatumWriter<>(current);
    this.readersByFingerprint = Collections.unmodifiableMap(readers);
  }

  /**
   * Older versions of a record's schema, listed in {@code avro-history/index.txt} as lines {@code
   * FullName path}. Each older file must be a self-contained schema.
   */
  static List<Schema> historyOf(String fullName) {
    try (InputStream index = SingleObjectSerde.class.getResourceAsStream(HISTORY_INDEX)) {
      if (index == null) {
        return List.of();
      }
      String text = new String(index.readAllBytes(), StandardCharsets.UTF_8);
      List<Schema> result = new java.util.ArrayList<>();
      for (String line : text.split("\n")) {
        String trimmed = line.strip();
        if (trimmed.isEmpty() || trimmed.startsWith("#")) {
          continue;
        }
        String[] parts = trimmed.split("\\s+");
        if (parts.length == 2 && parts[0].equals(fullName)) {
          try (InputStream in =
              SingleObjectSerde.class.getResourceAsStream("/avro-history/" + parts[1])) {
            if (in == null) {
              throw new IllegalStateException("avro-history lists missing file " + parts[1]);
            }
            result.add(new Schema.Parser().parse(in));
          }
        }
      }
      return result;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
