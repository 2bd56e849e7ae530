"""Markdown tables of `qoiflow eval-qa --json` runs for docs/QA_RESULTS.md.

  python -m qoiflow_train.mpnp_report LABEL=FILE.json [LABEL=FILE.json ...]

Per run: exact match (%) per policy and N with the 95% interval at the default N, per question
type at the default N, the answer prior (N = 0) per type, and the one-frame accuracy."""

from __future__ import annotations

import json
import sys

TYPES = ("exist", "count", "object", "status", "comparison")


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def tables(runs: list[tuple[str, dict]]) -> str:
    out = []
    ns = sorted({int(n) for _, d in runs for n in d["overall_by_n"]["camera"]})
    out.append("| run | policy | " + " | ".join(f"N={n}" for n in ns) + " | default N ± 95% |")
    out.append("|---" * (len(ns) + 3) + "|")
    for label, d in runs:
        for p in ("camera", "lidar", "qoi"):
            by_n = d["overall_by_n"][p]
            cells = [_pct(by_n.get(str(n))) for n in ns]
            ci = d.get("overall_ci95", {}).get(p)
            tail = f"{_pct(d['overall'][p])} ± {_pct(ci)}" if ci is not None else "-"
            out.append(f"| {label} | {p} | " + " | ".join(cells) + f" | {tail} |")
    out.append("")
    out.append("| run | policy (default N) | " + " | ".join(TYPES) + " | all | one frame |")
    out.append("|---" * (len(TYPES) + 4) + "|")
    for label, d in runs:
        n = d["default_n"]
        cell = {
            (r["policy"], r["question_type"]): r["exact_match"] for r in d["rows"] if r["n"] == n
        }
        for p in ("camera", "lidar", "qoi"):
            row = [_pct(cell.get((p, t))) for t in TYPES]
            one = _pct(d.get("one_frame", {}).get(p))
            out.append(
                f"| {label} | {p} (N={n}) | "
                + " | ".join(row)
                + f" | {_pct(d['overall'][p])} | {one} |"
            )
        if "prior" in d:
            pr = d["prior"]
            row = [_pct(pr["by_type"][t]) for t in TYPES]
            out.append(
                f"| {label} | prior (N=0) | "
                + " | ".join(row)
                + f" | {_pct(pr['overall'])} | {_pct(pr['one_frame'])} |"
            )
    out.append("")
    out.append("| run | model | samples | mean camera QoI | qoi chose LiDAR | ms per answer |")
    out.append("|---|---|---|---|---|---|")
    for label, d in runs:
        out.append(
            f"| {label} | {d['model']} | {d['samples']} | {d['mean_camera_qoi']:.3f} "
            f"| {100 * d['qoi_lidar_share']:.0f}% | {d['ms_per_answer']:.1f} |"
        )
    return "\n".join(out) + "\n"


def main(argv=None) -> None:
    args = argv if argv is not None else sys.argv[1:]
    runs = []
    for a in args:
        label, path = a.split("=", 1)
        with open(path) as fh:
            runs.append((label, json.load(fh)))
    sys.stdout.write(tables(runs))


if __name__ == "__main__":
    main()
