"""mPnP-LLM on the simulator: a small decoder-only LM answers scene questions; a modality encoder
feeds a key/value prefix into only the last N blocks through trainable aligners and sigmoid gates.

One readable file, nanoGPT-like. Pieces, in order:
  * tokenizer: WordLevel (whitespace split, lower-case), trained with `tokenizers`;
  * MpnpConfig and the LM (GPT blocks whose attention also attends to a per-block prefix);
  * encoders (small CNNs, pretrained here on scene facts, then frozen) and ModalityPrefix
    (encoder -> key/value aligners Linear-GELU-Linear -> prefix scaled per block by
    alpha_j = sigmoid(w_j / T));
  * LoRA on the K/V projections, active only in connected blocks and only for LiDAR (stage 2);
  * scene data from the simulator's Avro files, greedy decoding, exact match, FLOPs.

Shapes: B batch, T tokens, L blocks, H heads, P prefix tokens, hd head dim, d = H * hd.
Training (stages, budgets) lives in mpnp_train.py; ONNX export and fixtures in mpnp_export.py.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from qoiflow_train.data import CLASS_NAMES, MODALITIES, STATUSES, read_samples

PAD, UNK, EOS = "[PAD]", "[UNK]", "</s>"
PROMPT = "question: {q} </s> answer:"
# LM pretraining text (v2): a scene description rendered from the simulator's ground truth, then
# the prompt and answer. Objects nearest first, so "nearest", "farthest" and "closer than" are
# readable from the order; the LM learns to answer from context, which the prefix later replaces.
SCENE = "scene: {objects} . </s>"
MAX_NEW_TOKENS = 8
QA_MODALITIES = ("camera", "lidar")
NEG = -1e9  # additive mask: exp(NEG - max) is exactly 0 in float32


# ----------------------------------------------------------------------------------------------
# Tokenizer
# ----------------------------------------------------------------------------------------------
def train_tokenizer(texts: list[str]):
    """WordLevel on whitespace-split, lower-cased words: exact and easy to re-implement (Java)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.WordLevel(unk_token=UNK))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    trainer = trainers.WordLevelTrainer(special_tokens=[PAD, UNK, EOS], min_frequency=1)
    tok.train_from_iterator(texts, trainer)
    return tok


def prompt_text(question: str) -> str:
    return PROMPT.format(q=question)


# ----------------------------------------------------------------------------------------------
# Model
# ----------------------------------------------------------------------------------------------
@dataclass
class MpnpConfig:
    vocab_size: int = 64
    block_size: int = 40  # max prompt + answer tokens
    n_layer: int = 8  # L; N in 1..L blocks get the prefix
    n_head: int = 4
    n_embd: int = 96  # d
    prefix_tokens: int = 16  # P tokens per modality
    enc_dim: int = 64  # encoder token width E
    aligner_hidden: int = 256
    lora_rank: int = 8
    lora_alpha: float = 32.0
    gate_temperature: float = 1.0
    # "token": Linear-GELU-Linear per encoder token (v1); "gather": a cross-attention layer in
    # which every prefix slot attends over all encoder tokens first (v2, GatherAligner).
    aligner: str = "token"

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    def to_dict(self) -> dict:
        return asdict(self)


class LoRA(nn.Module):
    """Low-rank update B(A x) * alpha / r; B starts at zero so the frozen LM is unchanged."""

    def __init__(self, d_in: int, d_out: int, r: int, alpha: float):
        super().__init__()
        self.a = nn.Linear(d_in, r, bias=False)
        self.b = nn.Linear(r, d_out, bias=False)
        nn.init.kaiming_uniform_(self.a.weight, a=math.sqrt(5))
        nn.init.zeros_(self.b.weight)
        self.scale = alpha / r

    def forward(self, x):
        return self.b(self.a(x)) * self.scale


class PrefixAttention(nn.Module):
    def __init__(self, cfg: MpnpConfig):
        super().__init__()
        d = cfg.n_embd
        self.h, self.hd = cfg.n_head, cfg.head_dim
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)
        self.o = nn.Linear(d, d)
        self.lora_k = LoRA(d, d, cfg.lora_rank, cfg.lora_alpha)
        self.lora_v = LoRA(d, d, cfg.lora_rank, cfg.lora_alpha)

    def forward(self, x, pk, pv, connected, lora_on):
        # x (B,T,d); pk, pv (B,H,P,hd); connected, lora_on (B,) float 0/1
        b, t, d = x.shape
        gate = lora_on[:, None, None]
        q = self.q(x)
        k = self.k(x) + self.lora_k(x) * gate
        v = self.v(x) + self.lora_v(x) * gate
        q, k, v = (z.reshape(b, t, self.h, self.hd).transpose(1, 2) for z in (q, k, v))
        scale = 1.0 / math.sqrt(self.hd)
        s_tok = (q @ k.transpose(-1, -2)) * scale  # (B,H,T,T)
        causal = torch.triu(torch.ones(t, t, device=x.device), diagonal=1) * NEG
        s_tok = s_tok + causal
        s_pre = (q @ pk.transpose(-1, -2)) * scale  # (B,H,T,P)
        s_pre = s_pre + ((1.0 - connected) * NEG)[:, None, None, None]
        p = s_pre.shape[-1]
        att = torch.softmax(torch.cat([s_pre, s_tok], dim=-1), dim=-1)
        y = att[..., :p] @ pv + att[..., p:] @ v  # (B,H,T,hd)
        return self.o(y.transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    def __init__(self, cfg: MpnpConfig):
        super().__init__()
        d = cfg.n_embd
        self.ln1 = nn.LayerNorm(d)
        self.attn = PrefixAttention(cfg)
        self.ln2 = nn.LayerNorm(d)
        self.fc = nn.Linear(d, 4 * d)
        self.proj = nn.Linear(4 * d, d)

    def forward(self, x, pk, pv, connected, lora_on):
        x = x + self.attn(self.ln1(x), pk, pv, connected, lora_on)
        return x + self.proj(F.gelu(self.fc(self.ln2(x))))


class MpnpLM(nn.Module):
    """Decoder-only LM. Block j attends to prefix (pk[:, j], pv[:, j]) where connected[:, j] = 1."""

    def __init__(self, cfg: MpnpConfig):
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.block_size, cfg.n_embd)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd)
        self.head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.head.weight = self.wte.weight  # tied
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear) and not isinstance(m, LoRA):
            if m.weight.shape[0] != m.weight.shape[1] or m.bias is not None:
                nn.init.normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)

    def lora_parameters(self):
        for blk in self.blocks:
            yield from blk.attn.lora_k.parameters()
            yield from blk.attn.lora_v.parameters()

    def forward(self, ids, prefix_k, prefix_v, connected, lora_on, grad_from: int = 0):
        # ids (B,T) int64; prefix_k, prefix_v (B,L,H,P,hd); connected, lora_on (B,L) -> (B,T,V).
        # grad_from: blocks below it get detached input (training only: backward stops where no
        # block is connected, which is what makes the training cost grow with N).
        t = ids.shape[1]
        pos = torch.arange(t, device=ids.device)
        x = self.wte(ids) + self.wpe(pos)[None]
        for j, blk in enumerate(self.blocks):
            if j == grad_from and grad_from > 0:
                x = x.detach()
            x = blk(x, prefix_k[:, j], prefix_v[:, j], connected[:, j], lora_on[:, j])
        return self.head(self.ln_f(x))


def no_prefix(cfg: MpnpConfig, b: int):
    """Zero prefix with every block disconnected: the plain LM (text pretraining)."""
    shape = (b, cfg.n_layer, cfg.n_head, cfg.prefix_tokens, cfg.head_dim)
    z = torch.zeros(b, cfg.n_layer)
    return torch.zeros(shape), torch.zeros(shape), z, z


def block_masks(cfg: MpnpConfig, n: int, b: int, lora: bool):
    """connected (B,L): the last n blocks; lora_on (B,L): the same if the modality uses LoRA."""
    c = torch.zeros(b, cfg.n_layer)
    if n > 0:
        c[:, cfg.n_layer - n :] = 1.0
    return c, (c.clone() if lora else torch.zeros_like(c))


# ----------------------------------------------------------------------------------------------
# Encoders and aligners
# ----------------------------------------------------------------------------------------------
def _conv(cin, cout, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.BatchNorm2d(cout), nn.GELU())


class SpatialTokens(nn.Module):
    """P learned queries attend over the cells of a feature map (+ cell position): (B,C,H,W) ->
    (B,P,E). Keeps where things are (cell positions) without a large flatten-Linear."""

    def __init__(self, cells: int, c: int, cfg: MpnpConfig):
        super().__init__()
        e = cfg.enc_dim
        self.pos = nn.Parameter(torch.randn(cells, c) * 0.02)
        self.key = nn.Linear(c, e)
        self.value = nn.Linear(c, e)
        self.queries = nn.Parameter(torch.randn(cfg.prefix_tokens, e) * 0.02)
        self.mlp = nn.Sequential(nn.Linear(e, 2 * e), nn.GELU(), nn.Linear(2 * e, e))
        self.ln = nn.LayerNorm(e)
        self.scale = 1.0 / math.sqrt(e)

    def forward(self, fmap):
        x = fmap.flatten(2).transpose(1, 2) + self.pos  # (B,cells,C)
        att = torch.softmax((self.queries @ self.key(x).transpose(1, 2)) * self.scale, dim=-1)
        tok = att @ self.value(x)  # (B,P,E)
        return self.ln(tok + self.mlp(tok))


class CameraEncoder(nn.Module):
    """(B,3,48,48) raw 0..255 -> (B,P,E)."""

    def __init__(self, cfg: MpnpConfig):
        super().__init__()
        self.net = nn.Sequential(_conv(3, 32, 2), _conv(32, 64, 2), _conv(64, 64, 2))  # (64,6,6)
        self.tokens = SpatialTokens(6 * 6, 64, cfg)

    def forward(self, x):
        return self.tokens(self.net(x / 255.0 - 0.5))


class LidarEncoder(nn.Module):
    """(B,2,16,128) range m / intensity -> (B,P,E)."""

    def __init__(self, cfg: MpnpConfig):
        super().__init__()
        self.net = nn.Sequential(_conv(2, 32, (1, 2)), _conv(32, 64, 2), _conv(64, 64, 2))
        self.tokens = SpatialTokens(4 * 16, 64, cfg)  # feature map (64,4,16)

    def forward(self, x):
        x = torch.cat([x[:, :1] / 15.0, x[:, 1:]], dim=1)
        return self.tokens(self.net(x))


ENCODERS = {"camera": CameraEncoder, "lidar": LidarEncoder}

# Scene facts the encoders are pretrained to predict (their "pretraining task", as the paper's
# frozen ViT/RangeViT were pretrained elsewhere): per class count 0..4, per status count 0..4,
# total count, nearest class, nearest status, farthest class.
FACT_HEADS = [5] * len(CLASS_NAMES) + [5] * len(STATUSES) + [5, len(CLASS_NAMES)]
FACT_HEADS += [len(STATUSES), len(CLASS_NAMES)]


class FactHead(nn.Module):
    def __init__(self, cfg: MpnpConfig):
        super().__init__()
        self.lin = nn.Linear(cfg.prefix_tokens * cfg.enc_dim, sum(FACT_HEADS))

    def forward(self, tokens):
        return torch.split(self.lin(tokens.flatten(1)), FACT_HEADS, dim=1)


class Aligner(nn.Module):
    """Linear-GELU-Linear from encoder tokens (B,P,E) to (B,H,P,hd)."""

    def __init__(self, cfg: MpnpConfig):
        super().__init__()
        self.h, self.hd = cfg.n_head, cfg.head_dim
        self.net = nn.Sequential(
            nn.Linear(cfg.enc_dim, cfg.aligner_hidden),
            nn.GELU(),
            nn.Linear(cfg.aligner_hidden, cfg.n_embd),
        )

    def forward(self, tok):
        b, p, _ = tok.shape
        return self.net(tok).reshape(b, p, self.h, self.hd).transpose(1, 2)


class GatherAligner(nn.Module):
    """Gathers facts spread across encoder tokens before the K/V aligners (v2): prefix slot i
    queries with (token_i + learned query_i) over every token (+ learned position), multi-head,
    then a residual MLP. (B,P,E) -> (B,P,E); P unchanged, so the prefix shape (the ONNX contract)
    is unchanged."""

    def __init__(self, cfg: MpnpConfig, heads: int = 4):
        super().__init__()
        e, p = cfg.enc_dim, cfg.prefix_tokens
        self.h, self.hd = heads, e // heads
        self.pos = nn.Parameter(torch.randn(p, e) * 0.02)
        self.queries = nn.Parameter(torch.randn(p, e) * 0.02)
        self.ln_q = nn.LayerNorm(e)
        self.ln_kv = nn.LayerNorm(e)
        self.q = nn.Linear(e, e)
        self.kv = nn.Linear(e, 2 * e)
        self.o = nn.Linear(e, e)
        self.ln_m = nn.LayerNorm(e)
        self.mlp = nn.Sequential(nn.Linear(e, 2 * e), nn.GELU(), nn.Linear(2 * e, e))

    def forward(self, tok):
        b, p, e = tok.shape
        x = tok + self.pos
        q = self.q(self.ln_q(x + self.queries))
        k, v = self.kv(self.ln_kv(x)).chunk(2, dim=-1)
        q, k, v = (z.reshape(b, p, self.h, self.hd).transpose(1, 2) for z in (q, k, v))
        att = torch.softmax((q @ k.transpose(-1, -2)) / math.sqrt(self.hd), dim=-1)
        x = x + self.o((att @ v).transpose(1, 2).reshape(b, p, e))
        return x + self.mlp(self.ln_m(x))


class ModalityPrefix(nn.Module):
    """Frame -> per-block prefix (B,L,H,P,hd) for K and V: one aligned K/V shared by all blocks,
    block j's scaled by alpha_j = sigmoid(w_j / T). Which blocks are connected is decided by the
    caller's mask, so one set of aligners and gates serves every N."""

    def __init__(self, cfg: MpnpConfig, modality: str):
        super().__init__()
        self.cfg = cfg
        self.encoder = ENCODERS[modality](cfg)
        self.gather = GatherAligner(cfg) if cfg.aligner == "gather" else nn.Identity()
        self.key_aligner = Aligner(cfg)
        self.value_aligner = Aligner(cfg)
        self.gate_w = nn.Parameter(torch.empty(cfg.n_layer).uniform_(-1.0, 1.0))

    def alphas(self):
        return torch.sigmoid(self.gate_w / self.cfg.gate_temperature)  # (L,)

    def aligner_parameters(self):
        for m in (self.gather, self.key_aligner, self.value_aligner):
            yield from m.parameters()

    def from_tokens(self, tok):
        tok = self.gather(tok)
        k = self.key_aligner(tok)  # (B,H,P,hd)
        v = self.value_aligner(tok)
        a = self.alphas()[None, :, None, None, None]
        return k[:, None] * a, v[:, None] * a  # (B,L,H,P,hd)

    def forward(self, frame):
        return self.from_tokens(self.encoder(frame))


# ----------------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------------
@dataclass
class QaData:
    camera: np.ndarray  # (S,3,48,48) float32 raw
    lidar: np.ndarray  # (S,2,16,128) float32
    facts: np.ndarray  # (S, len(FACT_HEADS)) int64
    camera_level: np.ndarray  # (S,) camera corruption level
    qa: list[tuple[int, str, str, str]]  # (sample, type, question, answer)
    scenes: list[str]  # per sample: describe_scene of its ground truth (LM pretraining text)

    def __len__(self):
        return len(self.camera)


def _range(o) -> float:
    return math.hypot(o["xCm"], o["yCm"] + 600.0)  # rig at (0, -600)


def scene_facts(objects: list[dict]) -> list[int]:
    cls = [o["classIndex"] for o in objects]
    st = [STATUSES.index(o["status"]) for o in objects]
    out = [min(4, cls.count(c)) for c in range(len(CLASS_NAMES))]
    out += [min(4, st.count(s)) for s in range(len(STATUSES))]
    near = min(objects, key=_range)
    far = max(objects, key=_range)
    out += [min(4, len(objects)), near["classIndex"], STATUSES.index(near["status"])]
    return out + [far["classIndex"]]


def describe_scene(objects: list[dict]) -> str:
    """'scene: moving car , parked truck . </s>': every object as status + class, nearest first."""
    near_first = sorted(objects, key=_range)
    return SCENE.format(objects=" , ".join(f"{o['status']} {o['className']}" for o in near_first))


def load_qa(path: str | Path, limit: int | None = None) -> QaData:
    """Camera and LiDAR frames, scene facts and questions of a `qoiflow simulate` file (cached)."""
    path = Path(path)
    cache = path.with_name(path.name + f".qa2-{limit or ''}.npz")
    if cache.exists() and cache.stat().st_mtime > path.stat().st_mtime:
        z = np.load(cache, allow_pickle=False)
        qa = [(int(s), t, q, a) for s, t, q, a in z["qa"].tolist()]
        scenes = [str(x) for x in z["scenes"].tolist()]
        return QaData(z["camera"], z["lidar"], z["facts"], z["camera_level"], qa, scenes)
    cam, lid, facts, lvl, qa, scenes = [], [], [], [], [], []
    for i, s in enumerate(read_samples(path)):
        if limit is not None and i >= limit:
            break
        zero = {m: np.zeros((1,), np.float32) for m in MODALITIES}
        fr = {**zero, **s["frames"]}
        cam.append(fr["camera"].astype(np.float32).reshape(3, 48, 48))
        lid.append(fr["lidar"].astype(np.float32).reshape(2, 16, 128))
        t = s["truth"]
        facts.append(scene_facts(t["objects"]))
        scenes.append(describe_scene(t["objects"]))
        lv = 0.0
        for c in t["corruptions"]:
            if c["modality"] == "CAMERA":
                lv = max(lv, 1.0 if c["type"] == "off" else float(c["level"]))
        lvl.append(lv)
        for q in t["questions"]:
            qa.append((i, q["questionType"], q["question"], q["answer"]))
    d = QaData(
        np.stack(cam),
        np.stack(lid),
        np.array(facts, np.int64),
        np.array(lvl, np.float32),
        qa,
        scenes,
    )
    np.savez(
        cache,
        camera=d.camera,
        lidar=d.lidar,
        facts=d.facts,
        camera_level=d.camera_level,
        qa=np.array([(str(s), t, q, a) for s, t, q, a in qa]),
        scenes=np.array(scenes),
    )
    return d


def encode_pairs(tok, pairs: list[tuple[str, str]], block_size: int):
    """(question, answer) -> ids (B,T), targets (B,T) with -100 outside the answer and its </s>."""
    eos = tok.token_to_id(EOS)
    rows, tgts = [], []
    for q, a in pairs:
        p = tok.encode(prompt_text(q)).ids
        ans = tok.encode(a).ids + [eos]
        seq = (p + ans)[:block_size]
        tgt = [-100] * (len(p) - 1) + ans
        rows.append(seq[:-1])
        tgts.append(tgt[: len(seq) - 1])
    t = max(len(r) for r in rows)
    pad = tok.token_to_id(PAD)
    ids = torch.full((len(rows), t), pad, dtype=torch.long)
    tg = torch.full((len(rows), t), -100, dtype=torch.long)
    for i, (r, g) in enumerate(zip(rows, tgts, strict=True)):
        ids[i, : len(r)] = torch.tensor(r)
        tg[i, : len(g)] = torch.tensor(g)
    return ids, tg


# ----------------------------------------------------------------------------------------------
# Decoding and evaluation
# ----------------------------------------------------------------------------------------------
@torch.no_grad()
def greedy_answer(lm: MpnpLM, tok, question: str, pk, pv, connected, lora_on):
    """Greedy decoding, <= MAX_NEW_TOKENS new tokens, stops at </s>. pk/pv (1,L,H,P,hd).
    Returns (answer text, generated ids, number of tokens of every LM run)."""
    eos = tok.token_to_id(EOS)
    ids = tok.encode(prompt_text(question)).ids
    out, runs = [], []
    for _ in range(MAX_NEW_TOKENS):
        x = torch.tensor([ids + out])
        runs.append(x.shape[1])
        nxt = int(lm(x, pk, pv, connected, lora_on)[0, -1].argmax())
        if nxt == eos:
            break
        out.append(nxt)
        if len(ids) + len(out) >= lm.cfg.block_size:
            break
    return " ".join(tok.id_to_token(i) for i in out), out, runs


# ----------------------------------------------------------------------------------------------
# FLOPs (2 x multiply-adds of the matrix products). Java's QaFlops implements the same formula;
# tests check it against torch's FlopCounterMode.
# ----------------------------------------------------------------------------------------------
def lm_run_flops(cfg: MpnpConfig, t: int, n: int, lora: bool) -> int:
    """One LM forward over t tokens, prefix in the last n blocks (LoRA there if lora)."""
    d, p, r, v = cfg.n_embd, cfg.prefix_tokens, cfg.lora_rank, cfg.vocab_size
    per_block = 2 * t * d * d * 4 + 2 * t * d * 4 * d * 2 + 2 * 2 * t * t * d
    lora_block = 2 * 2 * (t * d * r + t * r * d)
    prefix_block = 2 * 2 * t * p * d
    total = cfg.n_layer * per_block + n * prefix_block + (n * lora_block if lora else 0)
    return total + 2 * t * d * v


def answer_flops(cfg: MpnpConfig, runs: list[int], n: int, lora: bool, prefix_flops: int) -> int:
    return prefix_flops + sum(lm_run_flops(cfg, t, n, lora) for t in runs)
