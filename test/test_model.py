"""Shift-GCN encoder, adaptive partitioning, DynaPURLS model and losses.

Small configs keep every test in the sub-second range; the default encoder is used
where its output shape is the contract.
"""

from __future__ import annotations

import inspect
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from dynapurls_ros.model import (
    AdaptivePartition,
    DynaPURLS,
    EncoderConfig,
    ModelConfig,
    ShiftGCNEncoder,
    SlotTemperature,
    fusion_slot_weights,
    slot_contrastive_loss,
)
from dynapurls_ros.model.shift_gcn import TemporalShift, _spatial_shift_index
from dynapurls_ros.text.descriptions import SLOTS

SMALL_ENCODER = EncoderConfig(patch=2, stem_width=16, widths=(16, 32), strides=(2, 2))
TEXT_DIM = 24


def small_model(**overrides: object) -> DynaPURLS:
    config = ModelConfig(
        encoder=SMALL_ENCODER, text_dim=TEXT_DIM, attn_dim=16, hidden_dim=32, **overrides
    )
    return DynaPURLS(config)


def windows(n: int, frames: int = 32, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, 3, frames, 25, generator=torch.Generator().manual_seed(seed))


def class_texts(k: int, dim: int = TEXT_DIM, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(k, len(SLOTS), dim, generator=g), dim=-1)


# --- encoder ----------------------------------------------------------------------


def test_default_encoder_maps_a_64_frame_window_to_256_channel_tokens() -> None:
    encoder = ShiftGCNEncoder().eval()
    with torch.no_grad():
        tokens = encoder(windows(2, frames=64))
        odd = encoder(windows(1, frames=50))  # not a multiple of the patch
    assert tokens.shape == (2, 256, 4, 25)
    assert odd.shape == (1, 256, 4, 25)
    assert torch.isfinite(tokens).all()


def test_encoder_rejects_wrong_layout() -> None:
    with pytest.raises(ValueError, match=r"expects \(N, 3, T, 25\), got \(1, 25, 64, 3\)"):
        ShiftGCNEncoder()(torch.zeros(1, 25, 64, 3))
    with pytest.raises(ValueError, match="widths"):
        EncoderConfig(widths=(64,), strides=(1, 2))


def test_spatial_shift_reads_joint_v_plus_c_and_shift_out_inverts_it() -> None:
    v, c = 25, 64
    x = torch.randn(3, v * c)
    shifted = x.index_select(1, _spatial_shift_index(v, c, +1)).view(3, v, c)
    grid = x.view(3, v, c)
    for joint, chan in [(0, 0), (3, 5), (24, 63), (10, 40)]:
        assert torch.equal(shifted[:, joint, chan], grid[:, (joint + chan) % v, chan])
    back = shifted.reshape(3, -1).index_select(1, _spatial_shift_index(v, c, -1))
    assert torch.equal(back, x)


def test_temporal_shift_integer_and_fractional() -> None:
    x = torch.randn(2, 10, 3, 5)  # (N, T, V, C)
    fixed = TemporalShift(5, radius=2, learnable=False)  # channel shifts -2, -1, 0, 1, 2
    assert fixed.shift.tolist() == [-2.0, -1.0, 0.0, 1.0, 2.0]
    out = fixed(x)
    for c, s in enumerate([-2, -1, 0, 1, 2]):
        for t in range(10):
            expected = x[:, t + s, :, c] if 0 <= t + s < 10 else torch.zeros(2, 3)
            assert torch.equal(out[:, t, :, c], expected)
    strided = TemporalShift(5, radius=2, learnable=False, stride=2)(x)
    assert torch.equal(strided, out[:, ::2])

    learnable = TemporalShift(5, radius=2, learnable=True)
    with torch.no_grad():
        learnable.shift.copy_(torch.tensor([0.25, -0.5, 0.0, 1.5, 9.0]))  # 9 clamps to 4
    y = learnable(x)
    torch.testing.assert_close(y[:, 3, :, 0], 0.75 * x[:, 3, :, 0] + 0.25 * x[:, 4, :, 0])
    torch.testing.assert_close(y[:, 3, :, 1], 0.5 * x[:, 2, :, 1] + 0.5 * x[:, 3, :, 1])
    torch.testing.assert_close(y[:, 3, :, 3], 0.5 * x[:, 4, :, 3] + 0.5 * x[:, 5, :, 3])
    torch.testing.assert_close(y[:, 3, :, 4], x[:, 7, :, 4])
    y.sum().backward()
    assert learnable.shift.grad is not None and learnable.shift.grad[:4].abs().sum() > 0
    learnable_strided = TemporalShift(5, radius=2, learnable=True, stride=2)
    learnable_strided.load_state_dict(learnable.state_dict())
    torch.testing.assert_close(learnable_strided(x), y[:, ::2])


def test_memoised_shift_plan_follows_weight_updates() -> None:
    """Without autograd the gather plan is cached; it must never go stale."""
    shift = TemporalShift(5, radius=2, learnable=True).eval()
    x = torch.randn(1, 10, 3, 5)
    with torch.no_grad():
        before = shift(x)
        shift.shift.add_(0.5)  # an optimiser step or load_state_dict does the same
        after = shift(x)
    reference = TemporalShift(5, radius=2, learnable=True)
    reference.load_state_dict(shift.state_dict())
    torch.testing.assert_close(after, reference(x).detach())
    assert not torch.allclose(before, after)
    shift.requires_grad_(False)  # frozen: the memoised path also serves autograd
    with torch.inference_mode():
        shift(x)  # a plan made under inference mode ...
    x.requires_grad_(True)
    shift(x).sum().backward()  # ... is not reused where autograd must save it
    assert x.grad is not None


# --- adaptive partitioning ----------------------------------------------------------


def test_attention_sums_to_one_and_candidate_pooling_matches_per_sample() -> None:
    torch.manual_seed(0)
    part = AdaptivePartition(text_dim=TEXT_DIM, token_dim=8, attn_dim=16, heads=2)
    tokens = F.normalize(torch.randn(3, 20, 8), dim=-1)
    queries = class_texts(4)[:, :7]  # (K, S, d)
    pooled, weights = part.pool_candidates(tokens, queries)
    assert pooled.shape == (3, 4, 7, 8) and weights.shape == (3, 4, 7, 20)
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, 4, 7))
    assert (weights >= 0).all()
    for k in range(4):  # class k's queries given to every sample separately
        per_pooled, per_weights = part.pool_per_sample(tokens, queries[k].expand(3, -1, -1))
        torch.testing.assert_close(per_pooled, pooled[:, k])
        torch.testing.assert_close(per_weights, weights[:, k])


def test_fused_attention_equals_the_average_of_head_logits() -> None:
    torch.manual_seed(0)
    heads, attn_dim = 2, 16
    part = AdaptivePartition(text_dim=TEXT_DIM, token_dim=8, attn_dim=attn_dim, heads=heads)
    tokens = torch.randn(2, 20, 8)
    queries = torch.randn(2, 5, TEXT_DIM)
    q = part.query(queries).view(2, 5, heads, -1)
    k = part.key(tokens).view(2, 20, heads, -1)
    head_logits = torch.einsum("nshd,nlhd->nhsl", q, k) / math.sqrt(attn_dim // heads)
    expected = head_logits.mean(dim=1).softmax(dim=-1)
    _, weights = part.pool_per_sample(tokens, queries)
    torch.testing.assert_close(weights, expected)


# --- DynaPURLS ----------------------------------------------------------------------


def test_shapes_of_similarities_and_logits() -> None:
    model = small_model().eval()
    with torch.no_grad():
        sims = model.slot_similarities(windows(3), class_texts(5))
        logits = model(windows(3), class_texts(5))
    assert sims.shape == (3, 5, len(SLOTS))
    assert sims.abs().max() <= 1.0 + 1e-5  # cosines
    assert logits.shape == (3, 5)
    with pytest.raises(ValueError, match=r"class_text must be \(K, 8, 24\)"):
        model(windows(1), class_texts(2, dim=10))


def test_gradients_reach_encoder_partition_projections_and_temperatures() -> None:
    torch.manual_seed(0)
    model = small_model(aux_classes=4)
    tokens = model.tokens(windows(6))
    sims = model.token_similarities(tokens, class_texts(4))
    labels = torch.tensor([0, 1, 2, 3, 0, 1])
    loss = slot_contrastive_loss(sims, labels, model.temperature()).total
    (loss + F.cross_entropy(model.aux_logits(tokens), labels)).backward()
    missing = [name for name, p in model.named_parameters() if p.grad is None]
    assert not missing, missing
    for module in (model.encoder, model.partition, model.local_proj, model.global_proj):
        assert sum(p.grad.abs().sum() for p in module.parameters()) > 0
    assert (model.temperature.log_scale.grad != 0).all()


def test_inference_takes_no_label_and_scores_do_not_depend_on_the_batch() -> None:
    """Leak-free rule: a sample's score for class k depends only on the sample and on
    class k's descriptions, never on which other samples or classes are present."""
    for method in (DynaPURLS.forward, DynaPURLS.slot_similarities, DynaPURLS.fuse):
        params = set(inspect.signature(method).parameters)
        assert not params & {"label", "labels", "y", "target", "targets"}, method
    torch.manual_seed(0)
    model = small_model().eval()
    x, text = windows(4), class_texts(6)
    with torch.no_grad():
        full = model(x, text)
        alone = model(x[2:3], text)
        subset = model(x, text[[4, 1]])
        permuted = model(x, text.flip(0))
    torch.testing.assert_close(alone[0], full[2])
    torch.testing.assert_close(subset, full[:, [4, 1]])
    torch.testing.assert_close(permuted, full.flip(1))


def test_prepared_candidates_score_like_raw_class_texts() -> None:
    torch.manual_seed(0)
    model = small_model().eval()
    x, text = windows(3), class_texts(5)
    with torch.no_grad():
        prepared = model.prepare(text)
        assert len(prepared) == 5
        torch.testing.assert_close(model(x, prepared), model(x, text))


def test_slot_features_dotted_with_texts_are_the_token_similarities() -> None:
    """The refinement scores stored slot features against texts; with the candidates'
    own texts that must be exactly the model's similarities, raw texts or prepared."""
    torch.manual_seed(0)
    model = small_model().eval()
    text = class_texts(5)
    with torch.no_grad():
        tokens = model.tokens(windows(6))
        expected = model.token_similarities(tokens, text)
        for candidates in (text, model.prepare(text)):
            features = model.slot_features(tokens, candidates)
            assert features.shape == (6, 5, len(SLOTS), TEXT_DIM)
            torch.testing.assert_close(features.norm(dim=-1), torch.ones(6, 5, len(SLOTS)))
            got = (features * model.prepare(text).text).sum(dim=-1)
            torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_fusion_weights_and_temperature_scaling() -> None:
    weights = fusion_slot_weights(2.0, 1.0, 1.0)
    torch.testing.assert_close(weights.sum(), torch.tensor(1.0))
    torch.testing.assert_close(weights[-1], torch.tensor(0.5))
    torch.testing.assert_close(weights[:4], torch.full((4,), 0.25 / 4))
    model = small_model(fusion=(2.0, 1.0, 1.0))
    sims = torch.rand(2, 3, len(SLOTS))
    expected = (sims * model.temperature() * weights).sum(-1)
    torch.testing.assert_close(model.fuse(sims), expected)
    global_only = fusion_slot_weights(1.0, 0.0, 0.0)
    torch.testing.assert_close(
        model.fuse(sims, global_only), sims[..., -1] * model.temperature()[-1]
    )
    with pytest.raises(ValueError, match="fusion"):
        ModelConfig(fusion=(0.0, 0.0, 0.0))


def test_same_seed_same_model_same_output() -> None:
    outputs = []
    for _ in range(2):
        torch.manual_seed(123)
        model = small_model().eval()
        with torch.no_grad():
            outputs.append(model(windows(2), class_texts(3)))
    torch.testing.assert_close(outputs[0], outputs[1], rtol=0, atol=0)


def test_checkpoint_round_trip_with_weights_only(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = small_model(fusion=(1.0, 0.5, 0.5), aux_classes=3)
    model.train()
    slot_contrastive_loss(
        model.slot_similarities(windows(4), class_texts(3)),
        torch.tensor([0, 1, 2, 0]),
        model.temperature(),
    ).total.backward()  # one step so BN statistics and weights differ from init
    model.eval()
    path = tmp_path / "model.pt"
    torch.save(model.to_checkpoint(), path)
    raw = torch.load(path, weights_only=True)
    assert raw["config"] == model.config.to_dict()
    loaded = DynaPURLS.from_checkpoint(raw)
    assert loaded.config == model.config and not loaded.training
    with torch.no_grad():
        torch.testing.assert_close(
            loaded(windows(2), class_texts(3)), model(windows(2), class_texts(3))
        )
    with pytest.raises(ValueError, match=r"EncoderConfig: unknown keys \['widht'\]"):
        ModelConfig.from_dict({"encoder": {"widht": [64]}})
    with pytest.raises(ValueError, match=r"not a dynapurls-model/1 checkpoint.*something-else"):
        DynaPURLS.from_checkpoint({"format": "something-else"})


# --- losses -------------------------------------------------------------------------


def test_contrastive_loss_matches_its_definition() -> None:
    torch.manual_seed(0)
    n, k, s = 5, 3, len(SLOTS)
    sims = torch.rand(n, k, s) * 2 - 1
    labels = torch.tensor([0, 2, 2, 0, 2])  # class 1 absent from the batch
    scales = torch.linspace(5.0, 20.0, s)
    out = slot_contrastive_loss(sims, labels, scales)
    for slot in range(s):
        logits = sims[:, :, slot] * scales[slot]
        s2t = F.cross_entropy(logits, labels)
        log_p = logits.log_softmax(dim=0)
        t2s = torch.stack([-log_p[labels == c, c].mean() for c in (0, 2)]).mean()
        torch.testing.assert_close(out.per_slot[slot], 0.5 * (s2t + t2s))
    torch.testing.assert_close(out.total, out.per_slot.sum())


def test_merged_slot_texts_are_positives_of_each_other() -> None:
    """``same``: where two classes' slot texts say the same thing, either class's text is
    a positive of the slot, so the loss no longer pushes the two apart."""
    torch.manual_seed(0)
    n, k, s = 6, 3, len(SLOTS)
    sims = torch.rand(n, k, s) * 2 - 1
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    scales = torch.full((s,), 10.0)
    eye = torch.eye(k, dtype=torch.bool).expand(s, k, k)
    plain = slot_contrastive_loss(sims, labels, scales)
    torch.testing.assert_close(slot_contrastive_loss(sims, labels, scales, eye).total, plain.total)
    same = eye.clone()
    same[0, 0, 1] = same[0, 1, 0] = True  # slot 0: classes 0 and 1 share their text
    merged = slot_contrastive_loss(sims, labels, scales, same)
    torch.testing.assert_close(merged.per_slot[1:], plain.per_slot[1:])
    logits = sims[:, :, 0] * 10.0
    target = torch.tensor([[1, 1, 0], [1, 1, 0], [0, 0, 1]], dtype=torch.float)[labels]
    s2t = -(target / target.sum(1, keepdim=True) * logits.log_softmax(1)).sum(1).mean()
    log_p = logits.log_softmax(dim=0)
    t2s = torch.stack([-(log_p[:, c] * target[:, c]).sum() / target[:, c].sum() for c in range(3)])
    torch.testing.assert_close(merged.per_slot[0], 0.5 * (s2t + t2s.mean()))
    with pytest.raises(ValueError, match="same must be"):
        slot_contrastive_loss(sims, labels, scales, eye[:, :2, :2])


def test_loss_prefers_correct_matches_and_validates_labels() -> None:
    labels = torch.tensor([0, 1, 2])
    scales = SlotTemperature(len(SLOTS))()
    right = F.one_hot(labels, 3).float().unsqueeze(-1).expand(3, 3, len(SLOTS))
    assert (
        slot_contrastive_loss(right, labels, scales).total
        < slot_contrastive_loss(1 - right, labels, scales).total
    )
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        slot_contrastive_loss(right, torch.tensor([0, 1, 3]), scales)


def test_temperature_is_log_parametrised_and_clamped() -> None:
    temp = SlotTemperature(8, init_scale=10.0, max_scale=50.0)
    torch.testing.assert_close(temp(), torch.full((8,), 10.0))
    with torch.no_grad():
        temp.log_scale[0] = 10.0
        temp.log_scale[1] = -3.0
    assert temp()[0].item() == pytest.approx(50.0)
    assert temp()[1].item() == pytest.approx(1.0)
