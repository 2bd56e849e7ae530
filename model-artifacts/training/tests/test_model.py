"""Unit tests of the model, the selection rules (docs/MODEL_FORMAT.md) and stage-1/2 mechanics."""

import torch

from qoiflow_train.model import (
    ADMN,
    MODALITIES,
    SHAPES,
    ADMNConfig,
    Controller,
    budget_layers,
    full_mask,
    gumbel_topk_st,
    loc_loss,
    naive_mask,
    select_topk,
)
from qoiflow_train.train import sample_layers

torch.set_num_threads(2)
TINY = ADMNConfig(num_classes=3, dim=16, heads=2, fusion_dim=16, fusion_depth=1)


def frames(b, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {m: torch.rand(b, *SHAPES[m], generator=g) * 100 for m in MODALITIES}


def test_shapes_and_outputs():
    model = ADMN(TINY).eval()
    f, present = frames(3), torch.ones(3, 5)
    mean, cov, probs = model.forward_selected(f, present, full_mask(present, 8))
    assert mean.shape == (3, 2) and cov.shape == (3, 2, 2) and probs.shape == (3, 3)
    assert torch.all(mean.abs() < TINY.arena_cm)
    assert torch.allclose(cov, cov.transpose(1, 2))
    assert torch.all(torch.linalg.eigvalsh(cov) > 0)
    assert torch.allclose(probs.sum(1), torch.ones(3))
    for m in MODALITIES:
        assert model.backbones[m].embed(f[m]).shape == (3, TINY.tokens(m), TINY.dim)


def test_budgets_follow_the_contract():
    assert [budget_layers(p, 40) for p in (25, 33, 50, 67, 100)] == [10, 13, 20, 27, 40]
    assert budget_layers(0.33, 40) == 13
    assert budget_layers(5, 20) == 5  # never below the number of modalities


def test_naive_spread_matches_contract():
    present = torch.ones(1, 5)
    m = naive_mask(present, 13, 8)[0].reshape(5, 8)
    # 13 // 5 = 2, the first 3 modalities get 3: layers round(j*7/2) -> 0, 4 (3.5 rounds up), 7
    assert m[0].nonzero().flatten().tolist() == [0, 4, 7]
    assert m[3].nonzero().flatten().tolist() == [0, 7]
    assert int(m.sum()) == 13
    absent = torch.tensor([[1.0, 0, 1, 1, 1]])
    m2 = naive_mask(absent, 10, 8)[0].reshape(5, 8)
    assert m2[1].sum() == 0 and int(m2.sum()) == 10


def test_topk_selection_rules():
    present = torch.tensor([[1.0, 1, 0, 1, 1], [1.0, 1, 1, 1, 1]])
    logits = torch.randn(2, 40)
    logits[0, 16:24] = 100.0  # missing modality's logits must be ignored
    mask = select_topk(logits, present, 10)
    assert mask.sum(1).tolist() == [10, 10]
    r = mask.reshape(2, 5, 8)
    assert r[0, 2].sum() == 0
    assert torch.all(r[present.bool()][:, 0])  # layer 0 of every present modality
    # ties go to the lower global index
    tie = select_topk(torch.zeros(1, 40), torch.ones(1, 5), 7)
    assert tie[0].nonzero().flatten().tolist() == [0, 1, 2, 8, 16, 24, 32]
    # fewer candidates than the budget: all taken, never more than L
    one = torch.tensor([[1.0, 0, 0, 0, 0]])
    assert int(select_topk(torch.randn(1, 40), one, 20).sum()) == 8


def test_gumbel_topk_straight_through():
    present = torch.tensor([[1.0, 1, 1, 0, 1]] * 4)
    for relax in ("softmax", "sigmoid"):
        logits = torch.randn(4, 40, requires_grad=True)
        m = gumbel_topk_st(logits, present, torch.tensor([5, 8, 10, 13]), relax=relax)
        hard = m.detach()
        assert torch.all((hard - hard.round()).abs() < 1e-6)  # forward values are 0/1
        assert hard.sum(1).tolist() == [5.0, 8.0, 10.0, 13.0]
        assert hard.reshape(4, 5, 8)[:, 3].sum() == 0
        assert torch.all(hard.reshape(4, 5, 8)[:, [0, 1, 2, 4], 0] == 1)
        (m * torch.randn(4, 40)).sum().backward()
        assert logits.grad is not None and logits.grad.abs().sum() > 0
        assert logits.grad.reshape(4, 5, 8)[:, 3].abs().sum() == 0  # missing: no gradient


def test_qoi_logit_bias_starts_neutral_and_reads_qoi():
    torch.manual_seed(0)
    base = Controller(TINY).eval()
    biased = Controller(TINY, qoi_logit_bias=True).eval()
    biased.load_state_dict(base.state_dict(), strict=False)
    f, p = frames(3), torch.ones(3, 5)
    with torch.no_grad():
        assert torch.equal(base(f, p)[0], biased(f, p)[0])  # zero-initialised term
        biased.qoi_bias.weight.fill_(1.0)
        lg, qoi = biased(f, p)
    assert torch.allclose(lg - base(f, p)[0], (1 - qoi).sum(1, keepdim=True).expand(-1, 40))


def test_selected_equals_masked_and_layers_are_skipped():
    torch.manual_seed(0)
    model = ADMN(TINY).eval()
    f = frames(4, 1)
    present = torch.tensor([[1.0, 1, 1, 1, 1], [1, 0, 1, 1, 1], [1, 1, 1, 1, 0], [0, 1, 1, 1, 1]])
    f = {m: f[m] * present[:, i, None, None, None] for i, m in enumerate(MODALITIES)}
    mask = select_topk(torch.randn(4, 40), present, 13)
    with torch.no_grad():
        a = model.forward_selected(f, present, mask)
        b = model.forward_masked(f, present, mask.float(), return_logits=False)
    for x, y in zip(a, b, strict=True):
        assert torch.allclose(x, y, atol=1e-4)
    # stage-1 path: a layer not listed is never called
    calls = []
    hook = model.backbones["camera"].layers[3].register_forward_hook(lambda *a: calls.append(1))
    layers = {m: [0, 1] for m in MODALITIES}
    model.forward_layers(f, present, layers)
    assert calls == []
    hook.remove()


def test_layerdrop_sampling():
    import numpy as np

    rng = np.random.default_rng(0)
    draws = [sample_layers(ADMNConfig(), rng, 0.2, 0.1) for _ in range(2000)]
    only_first = np.mean([d["camera"] == [0] for d in draws])
    kept = np.mean([len(d["depth"]) for d in draws if d["depth"] != [0]])
    assert all(d[m][0] == 0 for d in draws for m in MODALITIES)
    assert 0.07 < only_first < 0.14
    assert 6.2 < kept < 6.9  # 1 + 7 * 0.8 = 6.6


def test_loss_decreases_when_prediction_improves():
    target = torch.tensor([[100.0, -50.0]])
    cov = torch.eye(2)[None] * 400
    far = loc_loss(torch.tensor([[0.0, 0.0]]), cov, target)
    near = loc_loss(torch.tensor([[95.0, -45.0]]), cov, target)
    assert near < far


def test_controller_outputs():
    for kw in ({}, {"budget_input": True}, {"budget_input": True, "qoi_from_logits": True}):
        c = Controller(TINY, **kw).eval()
        budget = torch.full((2, 1), 0.25) if kw.get("budget_input") else None
        logits, qoi = c(frames(2), torch.ones(2, 5), budget)
        assert logits.shape == (2, 40) and qoi.shape == (2, 5)
        assert torch.all((qoi >= 0) & (qoi <= 1))


def test_best_allocations_is_the_per_sample_argmin_over_spread_counts():
    import itertools

    import torch.nn.functional as F

    from qoiflow_train.model import spread as _spread
    from qoiflow_train.train import Arrays, best_allocations

    torch.manual_seed(0)
    model = ADMN(TINY).eval()
    n, lm = 4, TINY.layers_per_modality
    g = torch.Generator().manual_seed(1)
    data = Arrays(
        frames(n, seed=2),
        torch.ones(n, 5),
        torch.rand(n, 2, generator=g) * 200 - 100,
        torch.randint(0, 3, (n,), generator=g),
        torch.zeros(n, 5),
        torch.zeros(n, 5, dtype=torch.long),
    )
    L = budget_layers(25, TINY.total_layers)
    best = best_allocations(model, data, 25, chunk=3)  # two chunks
    assert best.shape == (n, TINY.total_layers) and torch.all(best.sum(1) == L)
    assert torch.all(best[:, ::lm])  # every present modality keeps its first layer
    losses = []
    for c in itertools.product(range(1, lm + 1), repeat=5):
        if sum(c) != L:
            continue
        mask = torch.zeros(n, TINY.total_layers)
        for i, k in enumerate(c):
            mask[:, [i * lm + li for li in _spread(k, lm)]] = 1.0
        with torch.no_grad():
            mean, cov, logits = model.forward_masked(data.frames, data.present, mask)
        per = [
            float(loc_loss(mean[j : j + 1], cov[j : j + 1], data.xy[j : j + 1]))
            + float(F.cross_entropy(logits[j : j + 1], data.cls[j : j + 1]))
            for j in range(n)
        ]
        losses.append((per, mask.bool()))
    for j in range(n):
        per, mask = min(losses, key=lambda t: t[0][j])
        assert torch.equal(best[j], mask[j]), j


def test_depth_draw_covers_every_count_with_spread_layers():
    import numpy as np

    from qoiflow_train.model import spread

    rng = np.random.default_rng(0)
    cfg = ADMNConfig()
    draws = [sample_layers(cfg, rng, 0.2, 0.1, depth_draw=1.0) for _ in range(800)]
    counts = np.array([len(d["lidar"]) for d in draws])
    assert set(counts) == set(range(1, cfg.layers_per_modality + 1))
    assert abs(counts.mean() - 4.5) < 0.3  # uniform 1..8
    assert all(
        d[m] == spread(len(d[m]), cfg.layers_per_modality) for d in draws for m in MODALITIES
    )


def test_family_controller_makes_topk_select_its_argmax_allocation():
    from qoiflow_train.model import alloc_family, counts_mask, select_topk

    lm = TINY.layers_per_modality
    for kw, pcts in (({}, (25,)), ({"budget_input": True}, (25, 33, 50, 67))):
        torch.manual_seed(3)
        c = Controller(TINY, family_pcts=pcts, **kw).eval()
        counts, fam_l = alloc_family(pcts, TINY)
        masks = counts_mask(counts, lm)
        for pct in pcts:
            L = budget_layers(pct, TINY.total_layers)
            budget = torch.full((6, 1), pct / 100.0) if kw else None
            present = torch.ones(6, 5)
            with torch.no_grad():
                logits, qoi = c(frames(6, seed=pct), present, budget)
                h = c.encode(frames(6, seed=pct), present, budget)
                a = c.alloc_logits(h, budget)
            best = a.argmax(1)
            assert torch.all(fam_l[best] == L)  # the budget's own family
            sel = select_topk(logits, present, L)
            assert torch.equal(sel, masks[best])
            # a missing modality: still exactly L layers among the present ones
            present[:, 2] = 0
            with torch.no_grad():
                logits, _ = c(frames(6, seed=pct), present, budget)
            assert torch.all(select_topk(logits, present, L).sum(1) == L)


def test_static_mask_spreads_the_counts_of_present_modalities():
    from qoiflow_train.model import spread, static_mask

    lm = TINY.layers_per_modality
    counts = {"camera": 2, "depth": 1, "mmwave": 3, "lidar": 8, "audio": 1}
    present = torch.tensor([[1.0, 1, 1, 1, 1], [1, 0, 1, 1, 1]])
    m = static_mask(present, counts, lm)
    for i, mod in enumerate(MODALITIES):
        want = torch.zeros(lm, dtype=torch.bool)
        want[spread(counts[mod], lm)] = True
        assert torch.equal(m[0, i * lm : (i + 1) * lm], want)
    # depth missing: its layer is re-spread to the first present modality with room (camera),
    # as Java's LayerSelector.allocation does; the total stays that of the allocation
    assert not m[1, lm : 2 * lm].any() and m[1].sum() == m[0].sum()
    want = torch.zeros(lm, dtype=torch.bool)
    want[spread(min(lm, counts["camera"] + 1), lm)] = True
    assert torch.equal(m[1, :lm], want)


def test_cached_evaluation_equals_running_the_selected_layers():
    from qoiflow_train.evaluate import eval_masks
    from qoiflow_train.train import Arrays, cls_cache

    torch.manual_seed(0)
    model = ADMN(TINY).eval()
    n, lm = 5, TINY.layers_per_modality
    g = torch.Generator().manual_seed(4)
    present = torch.ones(n, 5)
    present[1, 3] = 0
    data = Arrays(
        frames(n, seed=5),
        present,
        torch.rand(n, 2, generator=g) * 200 - 100,
        torch.randint(0, 3, (n,), generator=g),
        torch.zeros(n, 5),
        torch.zeros(n, 5, dtype=torch.long),
    )
    mask = torch.rand(n, 5 * lm, generator=g) < 0.5
    mask[:, ::lm] = True
    mask = mask & present.bool().repeat_interleave(lm, 1)
    r = eval_masks(model, cls_cache(model, data, chunk=2), data, mask)
    mean, _, probs = model.forward_selected(data.frames, data.present, mask)
    assert torch.allclose(r["err"], (mean - data.xy).norm(dim=1), atol=1e-3)
    assert torch.equal(r["hit"], (probs.argmax(1) == data.cls).float())


def test_headroom_picks_per_condition_on_validation_and_scores_on_test():
    from qoiflow_train.headroom import headroom
    from qoiflow_train.model import alloc_family

    counts, fam_l = alloc_family((25,), TINY)
    k = counts.shape[0]
    assert k >= 2

    def outcomes(n_a, n_b):
        err = torch.full((n_a + n_b, k), 100.0)
        err[:n_a, 0] = 10.0  # condition a: allocation 0 is best
        err[n_a:, 1] = 20.0  # condition b: allocation 1 is best
        err[n_a:, 0] = 60.0
        return {"err": err}

    cond = lambda n_a, n_b: [("a",)] * n_a + [("b",)] * n_b  # noqa: E731
    r = headroom(
        outcomes(30, 10), outcomes(20, 20), cond(30, 10), cond(20, 20), counts, fam_l, (25,), TINY
    )["25"]
    # S* on validation = allocation 0 (mean 22.5 vs 77.5); on test: (20*10 + 20*60) / 40 = 35
    assert r["s_star"] == dict(zip(MODALITIES, counts[0].tolist(), strict=True))
    assert abs(r["s_star_cm"] - 35.0) < 1e-4
    assert abs(r["condition_oracle_cm"] - 15.0) < 1e-4  # (20*10 + 20*20) / 40
    assert abs(r["per_sample_oracle_cm"] - 15.0) < 1e-4
