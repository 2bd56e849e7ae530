"""Trains mPnP-LLM on simulator data, then exports it (mpnp_export).

  0a. tokenizer + LM pretraining on the scene-question text of the day set (no images);
  0b. encoder pretraining on scene facts (camera and LiDAR, day set), then frozen;
  1.  offline stage: camera aligners + gates on clean (day) data, LM and encoder frozen;
  2.  runtime adaptation: LiDAR aligners + gates + LoRA on K/V of the connected blocks, on a few
      hundred low-light (night) samples, LM and encoder frozen.
In stages 1 and 2 N is drawn per batch from 1..L, so one set of aligners and gates serves every N.

  python -m qoiflow_train.mpnp_train --day D.avro --night N.avro --day-dev DD.avro \
      --night-dev ND.avro --out ../mpnp-sim-v1
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from qoiflow_train.data import QUESTION_TYPES
from qoiflow_train.mpnp import (
    EOS,
    FACT_HEADS,
    QA_MODALITIES,
    FactHead,
    ModalityPrefix,
    MpnpConfig,
    MpnpLM,
    QaData,
    block_masks,
    encode_pairs,
    greedy_answer,
    load_qa,
    no_prefix,
    prompt_text,
    train_tokenizer,
)

USES_LORA = {"camera": False, "lidar": True}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class StepPlan:
    """Steps of one stage: the planned count, cut to what fits in budget_s at the measured pace.
    The pace is measured after the first PROBE steps and again every PROBE steps over the last
    window (the shared cores' speed varies with their load), so `total` follows the load; the LR
    schedule reads `total`, so warm-up and cosine follow the cut."""

    PROBE = 10

    def __init__(self, planned: int, budget_s: float | None, name: str):
        self.total, self.planned, self.budget_s, self.name = planned, planned, budget_s, name
        self.t0 = self.t_window = time.time()
        self.last = 0

    def keep_going(self, done: int) -> bool:
        """Call before each step with the steps done so far."""
        if self.budget_s and done != self.last and done % self.PROBE == 0:
            self.last = done
            now = time.time()
            pace = (now - self.t_window) / self.PROBE
            self.t_window = now
            left = self.budget_s - (now - self.t0)
            self.total = min(self.planned, max(done + 1, done + int(left / pace)))
            if done == self.PROBE or done % (10 * self.PROBE) == 0:
                log(f"{self.name}: {pace:.2f} s/step, {self.total} of {self.planned} steps fit")
        return done < self.total


def schedule(opt, plan: StepPlan):
    """Linear warm-up over the first 10% of steps, then cosine decay to 0."""

    def f(i: int) -> float:
        steps = plan.total
        warm = max(1, steps // 10)
        if i < warm:
            return (i + 1) / warm
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (i - warm) / max(1, steps - warm))))

    return torch.optim.lr_scheduler.LambdaLR(opt, f)


def frames_of(data: QaData, modality: str) -> np.ndarray:
    return data.camera if modality == "camera" else data.lidar


def lm_texts(data: QaData, with_scenes: bool) -> list[str]:
    """LM pretraining texts: every 'question: q </s> answer: a'; with_scenes adds each one again
    behind its scene's description (describe_scene), so half the text teaches answering from
    context and half keeps the question-only prior (the prompt the LM sees at run time)."""
    plain = [prompt_text(q) + " " + a for _, _, q, a in data.qa]
    if not with_scenes:
        return plain
    return plain + [data.scenes[s] + " " + prompt_text(q) + " " + a for s, _, q, a in data.qa]


def pretrain_lm(
    lm: MpnpLM, tok, texts: list[str], steps: int, batch: int, lr: float, budget_s=None
) -> list[float]:
    """Plain next-token LM on the texts, each closed by </s> (loss on every token)."""
    eos = tok.token_to_id(EOS)
    seqs = [tok.encode(t).ids + [eos] for t in texts]
    too_long = max(len(r) for r in seqs) - lm.cfg.block_size - 1
    if too_long > 0:
        raise ValueError(f"a pretraining text exceeds block_size by {too_long} tokens")
    opt = torch.optim.AdamW(lm.parameters(), lr=lr, weight_decay=0.01)
    plan = StepPlan(steps, budget_s, "lm")
    sched = schedule(opt, plan)
    pad = tok.token_to_id("[PAD]")
    losses = []
    lm.train()
    step = 0
    while plan.keep_going(step):
        rows = random.sample(seqs, batch)
        t = max(len(r) for r in rows)
        ids = torch.full((batch, t), pad)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = torch.tensor(r)
        tgt = ids[:, 1:].clone()
        tgt[tgt == pad] = -100
        pk, pv, c, lo = no_prefix(lm.cfg, batch)
        logits = lm(ids[:, :-1], pk, pv, c, lo)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss))
        if step % 100 == 0:
            log(f"lm step {step} loss {np.mean(losses[-100:]):.3f}")
        step += 1
    lm.eval()
    return losses


def pretrain_encoder(
    enc, cfg, frames: np.ndarray, facts: np.ndarray, epochs: int, name: str, budget_s=None
):
    head = FactHead(cfg)
    params = list(enc.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=2e-3, weight_decay=0.01)
    x_all = torch.from_numpy(frames)
    y_all = torch.from_numpy(facts)
    n = len(x_all)
    plan = StepPlan(epochs * (n // 64), budget_s, f"encoder {name}")
    sched = schedule(opt, plan)
    enc.train()
    step = 0
    for ep in range(epochs):
        if not plan.keep_going(step):
            break
        perm = torch.randperm(n)
        tot, acc = 0.0, 0.0
        k = 0
        for s in range(0, n - 63, 64):
            if not plan.keep_going(step):
                break
            idx = perm[s : s + 64]
            outs = head(enc(x_all[idx]))
            y = y_all[idx]
            loss = sum(F.cross_entropy(o, y[:, i]) for i, o in enumerate(outs)) / len(outs)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            k += 1
            tot += float(loss)
            acc += float(
                np.mean([(o.argmax(1) == y[:, i]).float().mean() for i, o in enumerate(outs)])
            )
        k = max(1, k)
        log(f"encoder {name} epoch {ep} loss {tot / k:.3f} mean fact acc {acc / k:.3f}")
    enc.eval()
    for p in enc.parameters():
        p.requires_grad_(False)
    assert len(FACT_HEADS) == y_all.shape[1]


@torch.no_grad()
def encode_all(enc, frames: np.ndarray) -> torch.Tensor:
    return torch.cat(
        [enc(torch.from_numpy(frames[s : s + 256])) for s in range(0, len(frames), 256)]
    )


def train_prefix(
    lm: MpnpLM,
    tok,
    pre: ModalityPrefix,
    data: QaData,
    modality: str,
    epochs: int,
    batch: int,
    lr: float,
    gate_lr: float,
    budget_s: float | None = None,
) -> list[float]:
    """Stage 1 (camera) or 2 (LiDAR): aligners + gates (+ LoRA for LiDAR); N drawn per batch."""
    cfg = lm.cfg
    lora = USES_LORA[modality]
    tokens = encode_all(pre.encoder, frames_of(data, modality))  # encoder frozen: once
    aligner_params = list(pre.aligner_parameters())
    groups = [
        {"params": aligner_params, "lr": lr},
        {"params": [pre.gate_w], "lr": gate_lr},
    ]
    if lora:
        lora_params = list(lm.lora_parameters())
        for p in lora_params:
            p.requires_grad_(True)
        groups.append({"params": lora_params, "lr": lr})
    opt = torch.optim.AdamW(groups, weight_decay=0.0)
    qa = data.qa
    plan = StepPlan(epochs * (len(qa) // batch), budget_s, modality)
    sched = schedule(opt, plan)
    losses = []
    step = 0
    for _ in range(epochs):
        order = list(range(len(qa)))
        random.shuffle(order)
        for s in range(0, len(order) - batch + 1, batch):
            if not plan.keep_going(step):
                break
            rows = [qa[i] for i in order[s : s + batch]]
            n = random.randint(1, cfg.n_layer)
            ids, tgt = encode_pairs(tok, [(q, a) for _, _, q, a in rows], cfg.block_size)
            pk, pv = pre.from_tokens(tokens[[r[0] for r in rows]])
            c, lo = block_masks(cfg, n, batch, lora)
            logits = lm(ids, pk, pv, c, lo, grad_from=cfg.n_layer - n)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(float(loss))
            step += 1
            if step % 100 == 0:
                log(f"{modality} step {step}/{plan.total} loss {np.mean(losses[-100:]):.3f}")
    if lora:
        for p in lm.lora_parameters():
            p.requires_grad_(False)
    return losses


def train_step_flops(lm, tok, pre, data: QaData, modality: str, n: int, batch: int) -> int:
    """FLOPs of one training step (encoder fwd, aligners, LM fwd, bwd) counted by torch."""
    cfg = lm.cfg
    lora = USES_LORA[modality]
    rows = data.qa[:batch]
    lora_params = list(lm.lora_parameters()) if lora else []
    for p in lora_params:
        p.requires_grad_(True)
    x = torch.from_numpy(frames_of(data, modality)[[r[0] for r in rows]])
    ids, tgt = encode_pairs(tok, [(q, a) for _, _, q, a in rows], cfg.block_size)
    with FlopCounterMode(display=False) as fc:
        with torch.no_grad():
            tokens = pre.encoder(x)
        pk, pv = pre.from_tokens(tokens)
        c, lo = block_masks(cfg, n, batch, lora)
        logits = lm(ids, pk, pv, c, lo, grad_from=cfg.n_layer - n)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1))
        loss.backward()
    for p in list(pre.parameters()) + lora_params:
        p.grad = None
    for p in lora_params:
        p.requires_grad_(False)
    return int(fc.get_total_flops())


@torch.no_grad()
def evaluate(lm, tok, prefixes: dict, data: QaData, modality: str, ns: list[int]) -> dict:
    """Exact match per question type at each N (greedy decoding)."""
    cfg = lm.cfg
    lora = USES_LORA[modality]
    pre = prefixes[modality]
    out = {}
    x = frames_of(data, modality)
    cache = {}
    for n in ns:
        hits = {t: [0, 0] for t in QUESTION_TYPES}
        for s, qt, q, a in data.qa:
            if s not in cache:
                cache[s] = pre(torch.from_numpy(x[s : s + 1]))
            pk, pv = cache[s]
            c, lo = block_masks(cfg, n, 1, lora)
            ans, _, _ = greedy_answer(lm, tok, q, pk, pv, c, lo)
            hits[qt][0] += int(ans == a)
            hits[qt][1] += 1
        by_type = {t: h[0] / max(1, h[1]) for t, h in hits.items()}
        total = sum(h[0] for h in hits.values()) / max(1, sum(h[1] for h in hits.values()))
        out[n] = {"by_type": by_type, "overall": total}
        log(f"eval {modality} N={n}: overall {total:.3f} {by_type}")
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--day", required=True)
    ap.add_argument("--night", required=True)
    ap.add_argument("--day-dev", required=True)
    ap.add_argument("--night-dev", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lm-steps", type=int, default=600)
    ap.add_argument("--lm-batch", type=int, default=64)
    ap.add_argument("--enc-epochs", type=int, default=6)
    ap.add_argument("--stage1-epochs", type=int, default=3)
    ap.add_argument("--stage2-epochs", type=int, default=8)
    ap.add_argument("--dev-limit", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--n-embd", type=int, default=96)
    ap.add_argument("--block-size", type=int, default=40)
    ap.add_argument("--aligner", choices=("token", "gather"), default="token")
    ap.add_argument(
        "--lm-text",
        choices=("questions", "scenes"),
        default="questions",
        help="LM pretraining text: question/answer only (v1) or also behind scene descriptions",
    )
    ap.add_argument(
        "--budget-s",
        type=float,
        nargs=5,
        metavar=("LM", "ENC_CAMERA", "ENC_LIDAR", "STAGE1", "STAGE2"),
        help="wall-clock seconds per stage: steps are cut to fit at the measured pace",
    )
    ap.add_argument("--eval-ns", default="1,2,4,8", help="N values of the dev evaluation")
    args = ap.parse_args(argv)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)
    t0 = time.time()
    day, night = load_qa(args.day), load_qa(args.night)
    day_dev, night_dev = (
        load_qa(args.day_dev, args.dev_limit),
        load_qa(args.night_dev, args.dev_limit),
    )
    log(f"data: day {len(day)} samples / {len(day.qa)} QA, night {len(night)} / {len(night.qa)}")

    texts = lm_texts(day, args.lm_text == "scenes")
    tok = train_tokenizer(texts)
    # ids may have holes (a special token also seen in the text): size by the largest id
    cfg = MpnpConfig(
        vocab_size=max(tok.get_vocab().values()) + 1,
        n_embd=args.n_embd,
        block_size=args.block_size,
        aligner=args.aligner,
    )
    log(f"tokenizer: {cfg.vocab_size} words; config {cfg.to_dict()}")
    lm = MpnpLM(cfg)
    for p in lm.lora_parameters():
        p.requires_grad_(False)
    timings = {}
    t = time.time()
    budget = dict(
        zip(("lm", "camera", "lidar", "s1", "s2"), args.budget_s or [None] * 5, strict=True)
    )
    lm_losses = pretrain_lm(lm, tok, texts, args.lm_steps, args.lm_batch, 3e-3, budget["lm"])
    timings["lm_pretrain_s"] = time.time() - t
    for p in lm.parameters():
        p.requires_grad_(False)  # frozen from here on; LoRA is separate

    prefixes = {m: ModalityPrefix(cfg, m) for m in QA_MODALITIES}
    for m in QA_MODALITIES:
        t = time.time()
        pretrain_encoder(
            prefixes[m].encoder, cfg, frames_of(day, m), day.facts, args.enc_epochs, m, budget[m]
        )
        timings[f"encoder_{m}_s"] = time.time() - t

    t = time.time()
    s1 = train_prefix(
        lm, tok, prefixes["camera"], day, "camera", args.stage1_epochs, 64, 2e-3, 0.1, budget["s1"]
    )
    timings["stage1_camera_s"] = time.time() - t
    t = time.time()
    s2 = train_prefix(
        lm, tok, prefixes["lidar"], night, "lidar", args.stage2_epochs, 16, 2e-3, 0.1, budget["s2"]
    )
    timings["stage2_lidar_s"] = time.time() - t
    log(f"training done in {time.time() - t0:.0f} s: {timings}")

    for pre in prefixes.values():
        pre.eval()
    # Training FLOPs per N, counted: one stage-2 step of batch 16 at each N, times the steps of
    # the stage-2 schedule (what adapting a model for that N costs).
    stage2_steps = len(s2)  # the steps actually run (the budget may cut the schedule)
    step_flops = {
        n: train_step_flops(lm, tok, prefixes["lidar"], night, "lidar", n, 16)
        for n in range(1, cfg.n_layer + 1)
    }
    train_flops = {n: f * stage2_steps for n, f in step_flops.items()}
    log(f"train flops per step by N: {step_flops}")

    ns = [int(n) for n in args.eval_ns.split(",")]
    results = {
        "day_camera": evaluate(lm, tok, prefixes, day_dev, "camera", ns),
        "night_camera": evaluate(lm, tok, prefixes, night_dev, "camera", ns),
        "night_lidar": evaluate(lm, tok, prefixes, night_dev, "lidar", ns),
        "day_lidar": evaluate(lm, tok, prefixes, day_dev, "lidar", ns),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tok.save(str(out / "tokenizer.json"))
    torch.save(
        {
            "config": cfg.to_dict(),
            "lm": lm.state_dict(),
            **{f"prefix_{m}": prefixes[m].state_dict() for m in QA_MODALITIES},
        },
        out / "torch_state.pt",
    )
    report = {
        "timings_s": timings,
        "samples": {
            "day": len(day),
            "night": len(night),
            "day_qa": len(day.qa),
            "night_qa": len(night.qa),
        },
        "steps_run": {"lm": len(lm_losses), "stage1": len(s1), "stage2": len(s2)},
        "lm_loss_last100": float(np.mean(lm_losses[-100:])),
        "stage1_loss_last100": float(np.mean(s1[-100:])),
        "stage2_loss_last100": float(np.mean(s2[-100:])),
        "stage2_steps": stage2_steps,
        "train_step_flops_by_n": step_flops,
        "train_flops_by_n": train_flops,
        "dev_results": results,
        "args": vars(args),
    }
    (out / "training_report.json").write_text(json.dumps(report, indent=1))
    log(f"wrote {out}")


if __name__ == "__main__":
    main()
