"""Decode QoIFlow records with fastavro and the .avsc files alone (docs/CONSUMERS.md).

Every QoIFlow topic carries Avro single-object encoding: the marker bytes C3 01, the 8-byte
little-endian CRC-64-AVRO fingerprint of the writer schema's parsing canonical form, then the
Avro binary body. This script checks the marker and the fingerprint against the schema it was
given and prints each record as one JSON line.

    python read_results.py --avsc-dir schemas/src/main/avro --record FusionResult VALUE_FILE...

Each VALUE_FILE holds one Kafka record value (e.g. written by a consumer loop, see
docs/CONSUMERS.md). Needs only fastavro (pinned in model-artifacts/training/requirements.txt).
"""

from __future__ import annotations

import argparse
import io
import json
import struct
import sys
from pathlib import Path

import fastavro
from fastavro.schema import parse_schema, to_parsing_canonical_form

MARKER = b"\xc3\x01"
HEADER_LENGTH = 10

_EMPTY = 0xC15D213AA4D7A795  # CRC-64-AVRO seed, Avro specification


def _crc64_table() -> list[int]:
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (_EMPTY & -(fp & 1))
        table.append(fp)
    return table


_TABLE = _crc64_table()


def crc64_avro(data: bytes) -> int:
    """The Avro specification's Rabin fingerprint (CRC-64-AVRO) of ``data``."""
    fp = _EMPTY
    for b in data:
        fp = (fp >> 8) ^ _TABLE[(fp ^ b) & 0xFF]
    return fp


def load_schemas(avsc_dir: Path) -> dict[str, dict]:
    """Every .avsc in ``avsc_dir`` by simple name, each named type it refers to inlined at its
    first use (as Java's parser does), so its canonical form and fingerprint equal the writer's."""
    raw = {p.stem: json.loads(p.read_text()) for p in sorted(avsc_dir.glob("*.avsc"))}
    return {name: _inline(schema, raw, set()) for name, schema in raw.items()}


def _inline(schema, defs: dict, seen: set):
    if isinstance(schema, str):
        simple = schema.rsplit(".", 1)[-1]
        if simple in defs and simple not in seen:
            return _inline(defs[simple], defs, seen)
        return schema
    if isinstance(schema, list):
        return [_inline(s, defs, seen) for s in schema]
    out = dict(schema)
    kind = out.get("type")
    if kind in ("record", "error", "enum", "fixed"):
        seen.add(out["name"].rsplit(".", 1)[-1])
    if kind in ("record", "error"):
        out["fields"] = [dict(f, type=_inline(f["type"], defs, seen)) for f in out["fields"]]
    elif kind == "array":
        out["items"] = _inline(out["items"], defs, seen)
    elif kind == "map":
        out["values"] = _inline(out["values"], defs, seen)
    elif isinstance(kind, (dict, list)):
        out["type"] = _inline(kind, defs, seen)
    return out


class SingleObjectDecoder:
    def __init__(self, schema: dict):
        self.schema = parse_schema(schema)
        canonical = to_parsing_canonical_form(schema)
        self.fingerprint = crc64_avro(canonical.encode("utf-8"))

    def decode(self, value: bytes) -> dict:
        if value[:2] != MARKER:
            raise ValueError(f"not single-object encoded: marker {value[:2].hex()} != c301")
        if len(value) < HEADER_LENGTH:
            raise ValueError(f"header ends after {len(value)} bytes")
        (fingerprint,) = struct.unpack("<Q", value[2:HEADER_LENGTH])
        if fingerprint != self.fingerprint:
            raise ValueError(
                f"writer fingerprint {fingerprint:016x} is not this schema's "
                f"{self.fingerprint:016x}: fetch the .avsc the producer used (docs/SCHEMAS.md)"
            )
        return fastavro.schemaless_reader(io.BytesIO(value[HEADER_LENGTH:]), self.schema)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--avsc-dir", type=Path, required=True)
    ap.add_argument("--record", default="FusionResult", help="FusionResult, QaAnswer, ...")
    ap.add_argument("values", nargs="+", type=Path, help="files of one record value each")
    args = ap.parse_args(argv)
    decoder = SingleObjectDecoder(load_schemas(args.avsc_dir)[args.record])
    for path in args.values:
        record = decoder.decode(path.read_bytes())
        print(json.dumps(record, default=str, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
