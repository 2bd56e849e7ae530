"""ADMN for QoIFlow: five ViT-style backbones with LayerDrop, a fusion transformer, heads, and the
QoI-aware layer-allocation controller. One file, read top to bottom.

Shapes: B batch, M = 5 modalities, Lm layers per modality, T tokens of one modality (CLS + patches),
D backbone dim, K classes, d controller dim. Frames enter as RAW float32 values (camera 0..255,
depth mm, ...); every normalisation happens inside the modules, so the exported graphs do too.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

# the one table of modalities and frame shapes: the simulator's reader (the sensor contract)
from .data import MODALITIES, SHAPES  # noqa: E402


@dataclass
class ADMNConfig:
    num_classes: int = 4
    layers_per_modality: int = 8
    dim: int = 64
    heads: int = 4
    mlp_ratio: int = 2
    fusion_dim: int = 64
    fusion_depth: int = 2
    fusion_heads: int = 4
    arena_cm: float = 300.0  # predicted mean lies in (-arena, +arena) cm
    # stage-1 only: a small unimodal head per modality (position + class from its own CLS), so
    # every backbone must learn on its own instead of the fusion leaning on the easiest sensor
    aux_heads: bool = False
    cov_unit_cm: float = 10.0  # covariance is predicted in (10 cm)^2 units, then scaled
    # embed: a strided 3x3 conv (GELU) before the patchify conv, so small targets (a few pixels)
    # are seen at full resolution; False = a single patchify conv (admn-sim-v1)
    conv_stem: bool = False
    shapes: dict = field(default_factory=lambda: dict(SHAPES))
    # backbone patch (ph, pw) per modality -> tokens = (H/ph)*(W/pw) + 1 CLS
    patches: dict = field(
        default_factory=lambda: {
            "camera": (8, 8),
            "depth": (8, 8),
            "mmwave": (4, 8),
            "lidar": (4, 16),
            "audio": (8, 8),
        }
    )
    # controller: average-pool kernel per modality (downsampling inside the graph)
    ctrl_pool: dict = field(
        default_factory=lambda: {
            "camera": (3, 3),
            "depth": (3, 3),
            "mmwave": (2, 2),
            "lidar": (2, 4),
            "audio": (2, 2),
        }
    )
    ctrl_channels: tuple = (8, 16)
    ctrl_dim: int = 32
    ctrl_depth: int = 2
    ctrl_heads: int = 2

    @property
    def modalities(self) -> tuple:
        return MODALITIES

    @property
    def total_layers(self) -> int:
        return len(MODALITIES) * self.layers_per_modality

    def tokens(self, m: str) -> int:
        c, h, w = self.shapes[m]
        ph, pw = self.patches[m]
        return (h // ph) * (w // pw) + 1

    def ctrl_size(self, m: str) -> tuple:
        c, h, w = self.shapes[m]
        kh, kw = self.ctrl_pool[m]
        return (c, h // kh, w // kw)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["shapes"] = {k: list(v) for k, v in self.shapes.items()}
        d["patches"] = {k: list(v) for k, v in self.patches.items()}
        d["ctrl_pool"] = {k: list(v) for k, v in self.ctrl_pool.items()}
        d["ctrl_channels"] = list(self.ctrl_channels)
        return d

    @staticmethod
    def from_dict(d: dict) -> ADMNConfig:
        d = dict(d)
        for k in ("shapes", "patches", "ctrl_pool"):
            d[k] = {m: tuple(v) for m, v in d[k].items()}
        d["ctrl_channels"] = tuple(d["ctrl_channels"])
        return ADMNConfig(**d)


# ----------------------------------------------------------------------------------------------
# building blocks
# ----------------------------------------------------------------------------------------------
class Normalize(nn.Module):
    """Raw frames -> per-channel standardised values. Stats come from the training set."""

    def __init__(self, channels: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(1, channels, 1, 1))
        self.register_buffer("std", torch.ones(1, channels, 1, 1))

    def set_stats(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        self.mean.copy_(mean.reshape(self.mean.shape))
        self.std.copy_(std.clamp_min(1e-3).reshape(self.std.shape))

    def forward(self, x):  # (B,C,H,W) raw -> (B,C,H,W) standardised
        return (x - self.mean) / self.std


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads, self.dh = heads, dim // heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, key_bias=None):  # x (B,T,D); key_bias (B,1,1,T) additive or None
        t, d = x.shape[1], x.shape[2]
        qkv = self.qkv(x).reshape(-1, t, 3, self.heads, self.dh).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]  # (B,H,T,dh)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(self.dh))  # (B,H,T,T)
        if key_bias is not None:
            att = att + key_bias
        out = att.softmax(-1) @ v  # (B,H,T,dh)
        return self.proj(out.transpose(1, 2).reshape(-1, t, d))


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(LN x); x + MLP(LN x). (B,T,D) -> (B,T,D)."""

    def __init__(self, dim: int, heads: int, mlp_ratio: int):
        super().__init__()
        self.n1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.n2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(
            nn.Linear(dim, mlp_ratio * dim), nn.GELU(), nn.Linear(mlp_ratio * dim, dim)
        )

    def forward(self, x, key_bias=None):
        x = x + self.attn(self.n1(x), key_bias)
        return x + self.mlp(self.n2(x))


def sincos_positions(n: int, dim: int) -> torch.Tensor:  # (n, dim)
    pos = torch.arange(n, dtype=torch.float32)[:, None]
    i = torch.arange(dim // 2, dtype=torch.float32)[None]
    ang = pos / (10000 ** (2 * i / dim))
    return torch.cat([ang.sin(), ang.cos()], dim=1)


# ----------------------------------------------------------------------------------------------
# backbone: embed graph + Lm layer graphs per modality
# ----------------------------------------------------------------------------------------------
class Embed(nn.Module):
    """frames (B,C,H,W) raw -> tokens (B,T,D): normalise, patchify (conv, or a conv stem),
    CLS, positions."""

    def __init__(self, cfg: ADMNConfig, m: str):
        super().__init__()
        c, h, w = cfg.shapes[m]
        self.norm = Normalize(c)
        ph, pw = cfg.patches[m]
        if cfg.conv_stem:  # 3x3 stride 2 at full resolution, then patches of (ph/2, pw/2)
            half = (ph // 2, pw // 2)
            self.patch = nn.Sequential(
                nn.Conv2d(c, cfg.dim // 2, 3, stride=2, padding=1),
                nn.GELU(),
                nn.Conv2d(cfg.dim // 2, cfg.dim, kernel_size=half, stride=half),
            )
        else:
            self.patch = nn.Conv2d(c, cfg.dim, kernel_size=(ph, pw), stride=(ph, pw))
        self.cls = nn.Parameter(torch.zeros(1, 1, cfg.dim))
        self.pos = nn.Parameter(0.02 * torch.randn(1, cfg.tokens(m), cfg.dim))

    def forward(self, frames):
        p = self.patch(self.norm(frames))  # (B,D,H/ph,W/pw)
        p = p.flatten(2).transpose(1, 2)  # (B,T-1,D)
        cls = self.cls.expand(p.shape[0], -1, -1)  # (B,1,D)
        return torch.cat([cls, p], dim=1) + self.pos  # (B,T,D)


class Backbone(nn.Module):
    def __init__(self, cfg: ADMNConfig, m: str):
        super().__init__()
        self.embed = Embed(cfg, m)
        self.layers = nn.ModuleList(
            Block(cfg.dim, cfg.heads, cfg.mlp_ratio) for _ in range(cfg.layers_per_modality)
        )


# ----------------------------------------------------------------------------------------------
# fusion + heads
# ----------------------------------------------------------------------------------------------
class FusionHeads(nn.Module):
    """cls (B,M,D) last-hidden token 0 per modality (zeros if missing), present (B,M) ->
    mean (B,2) cm, cov (B,2,2) cm^2, class_probs (B,K)  [+ logits for training]."""

    def __init__(self, cfg: ADMNConfig):
        super().__init__()
        self.cfg = cfg
        m_count, fd = len(MODALITIES), cfg.fusion_dim
        self.final_norm = nn.ModuleList(nn.LayerNorm(cfg.dim) for _ in MODALITIES)
        self.adapter = nn.ModuleList(
            nn.Sequential(nn.Linear(cfg.dim, fd), nn.GELU(), nn.Linear(fd, fd)) for _ in MODALITIES
        )
        self.register_buffer("mod_pos", sincos_positions(m_count, fd)[None])  # (1,M,fd)
        self.blocks = nn.ModuleList(Block(fd, cfg.fusion_heads, 2) for _ in range(cfg.fusion_depth))
        self.out_norm = nn.LayerNorm(fd)
        self.loc = nn.Linear(fd, 5)  # 2 mean + 3 Cholesky entries
        self.cls_head = nn.Linear(fd, cfg.num_classes)

    def forward(self, cls, present, return_logits: bool = False):
        toks = [self.adapter[i](self.final_norm[i](cls[:, i])) for i in range(len(MODALITIES))]
        h = torch.stack(toks, dim=1) + self.mod_pos  # (B,M,fd)
        key_bias = ((present - 1.0) * 1e4)[:, None, None, :]  # (B,1,1,M): 0 present, -1e4 missing
        for blk in self.blocks:
            h = blk(h, key_bias)
        h = self.out_norm(h)
        w = present[:, :, None]  # (B,M,1)
        pooled = (h * w).sum(1) / w.sum(1).clamp_min(1.0)  # (B,fd)
        o = self.loc(pooled)  # (B,5)
        mean = (torch.sigmoid(o[:, 0:2]) - 0.5) * (2.0 * self.cfg.arena_cm)  # (B,2) cm
        l11 = F.softplus(o[:, 2])
        l21 = o[:, 3]
        l22 = F.softplus(o[:, 4])
        zero = torch.zeros_like(l11)
        chol = torch.stack([torch.stack([l11, zero], -1), torch.stack([l21, l22], -1)], 1)
        eye = torch.eye(2, dtype=cls.dtype)[None]
        cov = (chol @ chol.transpose(1, 2) + eye) * (self.cfg.cov_unit_cm**2)  # (B,2,2) cm^2
        logits = self.cls_head(pooled)  # (B,K)
        if return_logits:
            return mean, cov, logits
        return mean, cov, logits.softmax(-1)


def loc_loss(mean, cov, target, unit_cm: float = 10.0, dist_weight: float = 0.5, nll_weight=1.0):
    """Gaussian NLL (in unit_cm units) + dist_weight * Euclidean distance (same units).
    With unit 10 cm, weight 0.5 equals the paper's 0.05 x distance in cm relative to the NLL's
    gradient scale. nll_weight < 1 early in stage 1 lets the mean move before the covariance
    inflates (the NLL alone first learns "centre of the arena, huge variance")."""
    d = (target - mean) / unit_cm  # (B,2)
    c = cov / (unit_cm**2)
    det = c[:, 0, 0] * c[:, 1, 1] - c[:, 0, 1] * c[:, 1, 0]
    inv00, inv11, inv01 = c[:, 1, 1] / det, c[:, 0, 0] / det, -c[:, 0, 1] / det
    maha = d[:, 0] ** 2 * inv00 + d[:, 1] ** 2 * inv11 + 2 * d[:, 0] * d[:, 1] * inv01
    nll = 0.5 * (maha + torch.log(det))
    dist = torch.sqrt((d**2).sum(-1) + 1e-8)
    return (nll_weight * nll + dist_weight * dist).mean()


# ----------------------------------------------------------------------------------------------
# the whole ADMN backbone model
# ----------------------------------------------------------------------------------------------
class ADMN(nn.Module):
    def __init__(self, cfg: ADMNConfig):
        super().__init__()
        self.cfg = cfg
        self.backbones = nn.ModuleDict({m: Backbone(cfg, m) for m in MODALITIES})
        self.fusion = FusionHeads(cfg)
        self.aux = (
            nn.ModuleDict(
                {
                    m: nn.Sequential(nn.LayerNorm(cfg.dim), nn.Linear(cfg.dim, 2 + cfg.num_classes))
                    for m in MODALITIES
                }
            )
            if cfg.aux_heads
            else None
        )

    # frames: dict m -> (B,C,H,W) raw; present (B,M) float
    def forward_layers(self, frames, present, layers_by_modality, return_logits=True):
        """Stage-1 path: the same layer subset for the whole batch; dropped layers are skipped.
        layers_by_modality: dict m -> list of layer indices (ascending)."""
        cls = []
        for i, m in enumerate(MODALITIES):
            bb = self.backbones[m]
            x = bb.embed(frames[m])  # (B,T,D)
            for li in layers_by_modality[m]:
                x = bb.layers[li](x)
            cls.append(x[:, 0] * present[:, i : i + 1])  # (B,D), zeros if missing
        out = self.fusion(torch.stack(cls, 1), present, return_logits=return_logits)
        if self.aux is None:
            return out
        aux = {}
        for i, m in enumerate(MODALITIES):
            o = self.aux[m](cls[i])  # (B, 2+K)
            aux[m] = ((torch.sigmoid(o[:, :2]) - 0.5) * (2.0 * self.cfg.arena_cm), o[:, 2:])
        return (*out, aux)

    def forward_masked(self, frames, present, mask, return_logits=True):
        """Stage-2 path: per-sample (soft, straight-through) layer mask (B, M*Lm); every layer is
        computed and blended x <- x + m*(blk(x) - x), so gradients reach the mask."""
        lm = self.cfg.layers_per_modality
        cls = []
        for i, m in enumerate(MODALITIES):
            bb = self.backbones[m]
            x = bb.embed(frames[m])
            for li in range(lm):
                g = mask[:, i * lm + li][:, None, None]  # (B,1,1)
                x = x + g * (bb.layers[li](x) - x)
            cls.append(x[:, 0] * present[:, i : i + 1])
        return self.fusion(torch.stack(cls, 1), present, return_logits=return_logits)

    @torch.no_grad()
    def forward_selected(self, frames, present, mask):
        """Inference path: boolean mask (B, M*Lm); layer l runs only on the samples that chose
        it (gather/scatter), i.e. unchosen layers are really skipped. Returns mean, cov, probs."""
        lm = self.cfg.layers_per_modality
        cls = []
        for i, m in enumerate(MODALITIES):
            bb = self.backbones[m]
            x = bb.embed(frames[m])
            for li in range(lm):
                idx = mask[:, i * lm + li].nonzero().flatten()
                if idx.numel() == 0:
                    continue
                x = x.index_copy(0, idx, bb.layers[li](x.index_select(0, idx)))
            cls.append(x[:, 0] * present[:, i : i + 1])
        return self.fusion(torch.stack(cls, 1), present, return_logits=False)


# ----------------------------------------------------------------------------------------------
# controller
# ----------------------------------------------------------------------------------------------
class Stem(nn.Module):
    """raw frames (B,C,H,W) -> avg-pool downsample -> normalise -> 2 strided convs + simple
    image statistics (mean, std, mean |dx|, mean |dy| per channel) -> (B,d)."""

    def __init__(self, cfg: ADMNConfig, m: str):
        super().__init__()
        c = cfg.shapes[m][0]
        self.pool = cfg.ctrl_pool[m]
        self.norm = Normalize(c)
        c1, c2 = cfg.ctrl_channels
        self.conv = nn.Sequential(
            nn.Conv2d(c, c1, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(c1, c2, 3, stride=2, padding=1),
            nn.ReLU(),
        )
        self.lin = nn.Linear(c2 + 4 * c, cfg.ctrl_dim)

    def downsample(self, frames):  # (B,C,H,W) raw -> (B,C,h,w) standardised
        return self.norm(F.avg_pool2d(frames, self.pool, self.pool))

    def forward(self, frames):
        x = self.downsample(frames)
        f = self.conv(x).mean(dim=(2, 3))  # (B,c2)
        mu = x.mean(dim=(2, 3))  # (B,C)
        sd = ((x - mu[:, :, None, None]) ** 2).mean(dim=(2, 3)).add(1e-6).sqrt()
        dx = (x[:, :, :, 1:] - x[:, :, :, :-1]).abs().mean(dim=(2, 3))
        dy = (x[:, :, 1:, :] - x[:, :, :-1, :]).abs().mean(dim=(2, 3))
        return self.lin(torch.cat([f, mu, sd, dx, dy], dim=1))  # (B,d)


class Controller(nn.Module):
    """frames (dict of raw (B,C,H,W)), present (B,M) [, budget (B,1) fraction] ->
    layer_logits (B, M*Lm), qoi (B,M) in [0,1].

    budget_input: the budget fraction is a head input (`universal`, `ae`) and, with budget_token,
    also added to the combiner's CLS token (`universal`; not `ae`, whose combiner is frozen).
    qoi_from_logits: no corruption head is trained (`ae`); qoi is a proxy, the mean sigmoid of the
    modality's optional-layer logits.
    qoi_logit_bias (stage-2 experiment, docs/TRAINING.md; off in the committed recipe): the layer
    logits get a learned linear term in the per-modality corruption estimates (1 - qoi, gradient
    stopped), a direct path from QoI to the allocation; same graph inputs and outputs.
    family_pcts (admn-sim-v2): the head scores a family of allocations instead of layers -- every
    split of the budget(s) into per-modality layer counts >= 1, evenly spread layers
    (`alloc_family`); training minimises the expected loss under softmax(alloc_logits). The graph
    picks the argmax allocation and emits layer_logits = 2 * its layer mask + the layers'
    marginal probabilities, so the engine's top-k (layer 0 forced) selects exactly its layers
    (the marginals only order the rest when a modality is missing). With a budget input the
    family is the union over family_pcts, and the budget picks the largest family level <= it."""

    def __init__(
        self,
        cfg: ADMNConfig,
        budget_input: bool = False,
        qoi_from_logits: bool = False,
        budget_token: bool = True,
        qoi_logit_bias: bool = False,
        family_pcts: tuple | None = None,
    ):
        super().__init__()
        self.cfg, self.budget_input, self.qoi_from_logits = cfg, budget_input, qoi_from_logits
        if qoi_logit_bias and qoi_from_logits:
            raise ValueError("qoi_logit_bias needs a trained corruption head")
        d, m_count = cfg.ctrl_dim, len(MODALITIES)
        self.stems = nn.ModuleDict({m: Stem(cfg, m) for m in MODALITIES})
        self.cls = nn.Parameter(torch.zeros(1, 1, d))
        self.missing = nn.Parameter(torch.zeros(1, m_count, d))
        self.register_buffer("pos", sincos_positions(m_count + 1, d)[None])  # (1,M+1,d)
        self.budget_tok = nn.Linear(1, d) if (budget_input and budget_token) else None
        self.blocks = nn.ModuleList(Block(d, cfg.ctrl_heads, 2) for _ in range(cfg.ctrl_depth))
        self.out_norm = nn.LayerNorm(d)
        hin = d + (1 if budget_input else 0)
        self.family_pcts = tuple(family_pcts) if family_pcts else None
        n_out = cfg.total_layers
        if self.family_pcts:
            counts, fam_l = alloc_family(self.family_pcts, cfg)
            self.register_buffer("fam_mask", counts_mask(counts, cfg.layers_per_modality).float())
            self.register_buffer("fam_l", fam_l.float())
            self.register_buffer("fam_levels", torch.unique(fam_l).float())
            n_out = counts.shape[0]
        self.head = nn.Sequential(nn.Linear(hin, 2 * d), nn.GELU(), nn.Linear(2 * d, n_out))
        self.qoi_head = nn.Linear(d, 1)
        self.qoi_bias = None
        if qoi_logit_bias:
            # zero at start: clean inputs (1 - qoi = 0) keep the head's allocation
            self.qoi_bias = nn.Linear(m_count, cfg.total_layers, bias=False)
            nn.init.zeros_(self.qoi_bias.weight)

    def encode(self, frames, present, budget=None):  # -> (B,1+M,d) combiner output
        toks = torch.stack([self.stems[m](frames[m]) for m in MODALITIES], 1)  # (B,M,d)
        p = present[:, :, None]
        toks = p * toks + (1.0 - p) * self.missing  # missing modality -> learned token
        cls = self.cls.expand(toks.shape[0], -1, -1)
        if self.budget_tok is not None:
            cls = cls + self.budget_tok(budget)[:, None, :]
        h = torch.cat([cls, toks], 1) + self.pos  # (B,1+M,d)
        for blk in self.blocks:
            h = blk(h)
        return self.out_norm(h)

    def alloc_logits(self, h, budget=None):
        """(B,K) scores of the family's allocations; with a budget input, the allocations of
        other budget levels get -1e4."""
        z = h[:, 0]
        if self.budget_input:
            z = torch.cat([z, budget], dim=1)
        a = self.head(z)
        if self.budget_input and self.fam_levels.numel() > 1:
            total = float(self.cfg.total_layers)
            L = torch.floor(budget * total + 0.5).clamp_min(float(len(MODALITIES)))  # (B,1)
            lv = torch.where(self.fam_levels[None] <= L, self.fam_levels[None], 0.0).max(1).values
            lv = torch.where(lv > 0, lv, self.fam_levels.min())  # below every level: the smallest
            a = a + ((self.fam_l[None] == lv[:, None]).float() - 1.0) * 1e4
        return a

    def heads(self, h, budget=None):
        if self.family_pcts:
            a = self.alloc_logits(h, budget)
            chosen = self.fam_mask[a.argmax(1)]  # (B, M*Lm) 0/1
            marginal = a.softmax(1) @ self.fam_mask  # (B, M*Lm) in [0,1]
            logits = 2.0 * chosen + marginal
            lm = self.cfg.layers_per_modality
            if self.qoi_from_logits:
                qoi = marginal.reshape(-1, len(MODALITIES), lm)[:, :, 1:].mean(-1)
            else:
                qoi = torch.sigmoid(self.qoi_head(h[:, 1:])).squeeze(-1)
            return logits, qoi
        z = h[:, 0]
        if self.budget_input:
            z = torch.cat([z, budget], dim=1)
        logits = self.head(z)  # (B, M*Lm)
        if self.qoi_from_logits:
            lm = self.cfg.layers_per_modality
            qoi = torch.sigmoid(logits.reshape(-1, len(MODALITIES), lm)[:, :, 1:]).mean(-1)
        else:
            qoi = torch.sigmoid(self.qoi_head(h[:, 1:])).squeeze(-1)  # (B,M)
            if self.qoi_bias is not None:
                logits = logits + self.qoi_bias(1.0 - qoi.detach())
        return logits, qoi

    def forward(self, frames, present, budget=None):
        return self.heads(self.encode(frames, present, budget), budget)


class AEDecoder(nn.Module):
    """AE pretraining of the controller's stems + combiner: modality token (B,d) -> the
    standardised downsampled input (B,C,h,w)."""

    def __init__(self, cfg: ADMNConfig):
        super().__init__()
        self.sizes = {m: cfg.ctrl_size(m) for m in MODALITIES}
        self.dec = nn.ModuleDict(
            {
                m: nn.Sequential(
                    nn.Linear(cfg.ctrl_dim, 128), nn.GELU(), nn.Linear(128, math.prod(s))
                )
                for m, s in self.sizes.items()
            }
        )

    def forward(self, h):  # h (B,1+M,d)
        return {
            m: self.dec[m](h[:, 1 + i]).reshape(-1, *self.sizes[m])
            for i, m in enumerate(MODALITIES)
        }


# ----------------------------------------------------------------------------------------------
# layer selection (identical to docs/MODEL_FORMAT.md and the Java engine)
# ----------------------------------------------------------------------------------------------
def spread(k: int, lm: int) -> list:
    """k of lm layer indices, evenly spread from the first to the last (naive, static, family)."""
    return [0] if k == 1 else [int(math.floor(t * (lm - 1) / (k - 1) + 0.5)) for t in range(k)]


def alloc_family(pcts, cfg: ADMNConfig):
    """Every split of each budget into per-modality layer counts (>= 1 each, <= Lm) ->
    counts (K,M) long, budget layers (K,) long; ordered by budget, then lexicographically."""
    lm, rows, ls = cfg.layers_per_modality, [], []
    for pct in pcts:
        L = budget_layers(pct, cfg.total_layers)
        for c in itertools.product(range(1, lm + 1), repeat=len(MODALITIES)):
            if sum(c) == L:
                rows.append(c)
                ls.append(L)
    return torch.tensor(rows, dtype=torch.long), torch.tensor(ls, dtype=torch.long)


def counts_mask(counts, lm: int):
    """counts (K,M) -> (K, M*Lm) bool, evenly spread layers per modality (0 = none)."""
    out = torch.zeros(counts.shape[0], counts.shape[1] * lm, dtype=torch.bool)
    for r, row in enumerate(counts.tolist()):
        for i, k in enumerate(row):
            if k > 0:
                for li in spread(k, lm):
                    out[r, i * lm + li] = True
    return out


def budget_layers(pct_or_fraction: float, total: int, n_mod: int = len(MODALITIES)) -> int:
    f = pct_or_fraction / 100.0 if pct_or_fraction > 1.0 else pct_or_fraction
    return max(n_mod, int(math.floor(f * total + 0.5)))


def forced_and_candidates(present, lm: int):
    """present (B,M) -> forced (B,M*Lm) layer 0 of present modalities, candidates (B,M*Lm)."""
    p = present.bool()[:, :, None]
    first = torch.zeros(1, 1, lm, dtype=torch.bool)
    first[..., 0] = True
    forced = (p & first).reshape(present.shape[0], -1)
    cand = (p & ~first).reshape(present.shape[0], -1)
    return forced, cand


def _topk_by_rank(scores, cand, k):
    """Boolean (B,N): the k[b] highest scores among candidates, ties to the lower index."""
    s = scores.masked_fill(~cand, float("-inf"))
    order = torch.sort(s, dim=1, descending=True, stable=True).indices  # (B,N)
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(s.shape[1]).expand_as(order))
    return (rank < k[:, None]) & cand


def select_topk(logits, present, L):
    """Inference selection. L: int or (B,) long. Returns bool mask (B, M*Lm)."""
    lm = logits.shape[1] // present.shape[1]
    forced, cand = forced_and_candidates(present, lm)
    L = torch.as_tensor(L).expand(logits.shape[0])
    k = (L - present.bool().sum(1)).clamp_min(0)
    return forced | _topk_by_rank(logits, cand, k)


def gumbel_topk_st(logits, present, L, tau: float = 1.0, noise: float = 0.1, relax="softmax"):
    """Training selection: Gumbel-perturbed logits (noise x Gumbel(0,1)), hard top-(L - P),
    straight-through. Returns float mask (B, M*Lm): forced layers 1, missing 0, exactly
    min(L, P+|cand|) ones. The soft part (its gradient only):
    - "softmax" (the reference code, the committed recipe): softmax over the candidates;
    - "sigmoid" (stage-2 experiment, docs/TRAINING.md): sigmoid((z - t) / tau) with t midway
      between the k-th and (k+1)-th perturbed candidate logit, so each candidate gets the
      gradient of its own on/off effect even when one logit takes all the softmax mass."""
    lm = logits.shape[1] // present.shape[1]
    forced, cand = forced_and_candidates(present, lm)
    g = -torch.log(-torch.log(torch.rand_like(logits).clamp(1e-9, 1 - 1e-9)))
    z = logits + noise * g
    L = torch.as_tensor(L).expand(logits.shape[0])
    k = (L - present.bool().sum(1)).clamp_min(0)
    hard = _topk_by_rank(z.detach(), cand, k).float()
    if relax == "softmax":
        y = torch.nan_to_num((z / tau).masked_fill(~cand, float("-inf")).softmax(1))
    elif relax == "sigmoid":
        zs = torch.sort(z.detach().masked_fill(~cand, -1e9), dim=1, descending=True).values
        n, last = cand.sum(1), zs.shape[1] - 1
        above = zs.gather(1, (k - 1).clamp(0, last)[:, None])[:, 0]  # k-th largest
        below = zs.gather(1, k.clamp(0, last)[:, None])[:, 0]  # (k+1)-th largest
        top, bottom = zs[:, 0], zs.gather(1, (n - 1).clamp(0, last)[:, None])[:, 0]
        t = torch.where(k <= 0, top + tau, torch.where(k >= n, bottom - tau, (above + below) / 2))
        y = torch.sigmoid((z - t[:, None]) / tau) * cand.float()
    else:
        raise ValueError(relax)
    st = hard + y - y.detach()
    return torch.where(forced, torch.ones_like(st), st)


def naive_mask(present, L: int, lm: int):
    """Evenly spread layers per present modality (MODEL_FORMAT.md `naive`). (B, M*Lm) bool."""
    b, mcount = present.shape
    out = torch.zeros(b, mcount * lm, dtype=torch.bool)
    for r in range(b):
        pres = [i for i in range(mcount) if present[r, i] > 0]
        if not pres:
            continue
        base, extra = divmod(L, len(pres))
        for j, i in enumerate(pres):
            k = min(lm, base + (1 if j < extra else 0))
            if k <= 0:
                continue
            for li in spread(k, lm):
                out[r, i * lm + li] = True
    return out


def static_counts(present_row, counts: dict, lm: int) -> list:
    """Per-modality layer counts of the `static` policy for one sample's presence (M,) bool:
    the allocation's counts for present modalities; a missing modality's layers are re-spread
    over the present ones in modality order, one each per round, capped at lm (docs/MODEL_FORMAT.md;
    Java: LayerSelector.allocation). At a manifest budget the counts sum to its layers, so the
    total never exceeds the budget."""
    k = [max(1, min(lm, int(counts[m]))) if present_row[i] else 0 for i, m in enumerate(MODALITIES)]
    freed = sum(
        max(1, min(lm, int(counts[m]))) for i, m in enumerate(MODALITIES) if not present_row[i]
    )
    grew = True
    while freed > 0 and grew:
        grew = False
        for i in range(len(MODALITIES)):
            if freed > 0 and present_row[i] and k[i] < lm:
                k[i] += 1
                freed -= 1
                grew = True
    return k


def static_mask(present, counts: dict, lm: int):
    """The `static` policy: fixed per-modality layer counts (evenly spread) whatever the input
    (manifest `allocations_by_budget`), a missing modality's layers re-spread over the present
    ones (`static_counts`). (B, M*Lm) bool."""
    pres = present.bool()
    out = torch.zeros(pres.shape[0], len(MODALITIES) * lm, dtype=torch.bool)
    for pattern in torch.unique(pres, dim=0):
        rows = (pres == pattern).all(1)
        k = static_counts(pattern.tolist(), counts, lm)
        # counts_mask needs >= 1 per modality; missing modalities are masked out afterwards
        row = counts_mask(torch.tensor([[max(1, c) for c in k]]), lm)
        p = pattern[:, None].expand(-1, lm).reshape(-1)
        out[rows] = row[0] & p
    return out


def full_mask(present, lm: int):
    return present.bool()[:, :, None].expand(-1, -1, lm).reshape(present.shape[0], -1).clone()


def load_weights(path) -> dict:
    """The one loader of saved PyTorch weights (a state dict, or a dict of them)."""
    return torch.load(path, map_location="cpu", weights_only=True)
