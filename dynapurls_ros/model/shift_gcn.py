"""A light Shift-GCN skeleton encoder in plain PyTorch (no custom kernels).

Shift-GCN replaces graph convolutions with *shifts*: a zero-FLOP permutation that makes
each channel of a joint read another joint (spatial) or another frame (temporal),
followed by a cheap pointwise (1x1) projection. This keeps the receptive field of a
graph network at the price of a few matrix multiplications, which is what lets a
64-frame window run in a few milliseconds on one CPU core.

Internally every tensor is laid out ``(N, T, V, C)`` so that the pointwise projections
are plain ``nn.Linear`` matmuls over a contiguous last dimension and both shifts are
index operations; the public output is ``(N, C, T', V)``, the layout the rest of the
model (and the paper's released features) uses.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class EncoderConfig:
    """Stem, widths and temporal strides of the encoder.

    The stem embeds ``patch`` consecutive frames of each joint into ``stem_width``
    channels (a lossless linear map when ``stem_width >= 3 * patch``), so the shift
    blocks run at a quarter of the frame rate: on CPU that cut the latency of a 64-frame
    window by about 3x against Shift-GCN's full-rate first blocks. The default (stem +
    5 blocks, 64->128->256 channels, total temporal stride 16) maps a 64-frame window to
    ``T' = 4`` frames of 25 joint tokens of 256 channels (see
    ``benchmarks/model_latency.py``).
    """

    in_channels: int = 3
    num_joints: int = 25
    patch: int = 4
    stem_width: int = 64
    widths: tuple[int, ...] = (64, 128, 128, 256, 256)
    strides: tuple[int, ...] = (1, 1, 2, 2, 1)
    temporal_radius: int = 2
    learnable_shift: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        object.__setattr__(self, "strides", tuple(int(s) for s in self.strides))
        if not self.widths or len(self.widths) != len(self.strides):
            raise ValueError(
                f"EncoderConfig: widths {self.widths} and strides {self.strides} must be "
                "non-empty and of equal length"
            )
        if (
            min(self.widths + self.strides) < 1
            or min(self.patch, self.stem_width, self.in_channels, self.num_joints) < 1
            or self.temporal_radius < 0
        ):
            raise ValueError(f"EncoderConfig: invalid widths/strides/radius in {self}")

    @property
    def out_channels(self) -> int:
        return self.widths[-1]

    def to_dict(self) -> dict[str, Any]:
        """Plain builtins only, so a checkpoint loads with ``torch.load(weights_only=True)``."""
        data = asdict(self)
        data["widths"] = list(self.widths)
        data["strides"] = list(self.strides)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EncoderConfig:
        return cls(**known_fields(cls, data))


def known_fields(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` as constructor kwargs of dataclass ``cls``; unknown keys (a checkpoint
    from another version, a typo in a config) raise instead of being ignored."""
    unknown = sorted(set(data) - {f.name for f in fields(cls)})
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown keys {unknown}")
    return dict(data)


def _spatial_shift_index(num_joints: int, channels: int, sign: int) -> torch.Tensor:
    """Flat ``(V*C)`` gather index: channel ``c`` of joint ``v`` reads joint ``v + sign*c``.

    ``sign=+1`` is the shift-in, ``sign=-1`` its inverse (the shift-out), so that after
    the pointwise projection every channel is put back on the joint it belongs to.
    """
    joints = torch.arange(num_joints).unsqueeze(1)
    chans = torch.arange(channels).unsqueeze(0)
    source = (joints + sign * chans) % num_joints
    return (source * channels + chans).reshape(-1)


def _group_shifts(channels: int, radius: int) -> torch.Tensor:
    """Initial temporal offsets: channels split in ``2r+1`` groups shifted by ``-r..r``."""
    return (torch.arange(channels) * (2 * radius + 1) // channels - radius).float()


def _channel_norm(bn: nn.BatchNorm1d, x: torch.Tensor) -> torch.Tensor:
    """BatchNorm over the last dimension of a ``(..., C)`` tensor."""
    return bn(x.reshape(-1, x.shape[-1])).view_as(x)


# (flat gather index, weight of the lower tap, weight of the upper tap or None)
_ShiftPlan = tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]


class TemporalShift(nn.Module):
    """Per-channel shift along time, optionally fractional and learnable.

    Channel ``c`` of output frame ``t`` reads input frame ``t*stride + shift[c]``
    (zeros outside the sequence). A learnable shift is real-valued: the two enclosing
    frames are linearly interpolated so the offset receives a gradient through the
    interpolation weight (the adaptive temporal shift of Shift-GCN, without its CUDA
    kernel). Learned offsets are clamped to twice the initial reach.

    Implementation: one flat ``index_select`` per batch (far cheaper on CPU than a
    ``gather`` with a 4-D index), reading clamped frame indices, then a multiply by
    per-(frame, channel) weights that are zero where the source frame is outside the
    sequence. No zero-padded copy of the input is made.
    """

    def __init__(self, channels: int, radius: int, learnable: bool, stride: int = 1) -> None:
        super().__init__()
        self.stride = stride
        self.limit = float(max(2 * radius, 1))
        init = _group_shifts(channels, radius)
        if learnable:
            self.shift = nn.Parameter(init)
        else:
            self.register_buffer("shift", init)
        self.learnable = learnable
        # Rows of the gathered block holding the lower / upper interpolation tap.
        if stride == 1:
            self._low_rows, self._high_rows = slice(0, -1), slice(1, None)
        else:
            self._low_rows, self._high_rows = slice(0, None, 2), slice(1, None, 2)
        self._memo: tuple[tuple, _ShiftPlan] | None = None

    def _plan(self, t: int, v: int, dtype: torch.dtype) -> _ShiftPlan:
        """Flat source index into one sample's ``(T, V, C)`` block and the weights of
        the one or two taps, ``(T', 1, C)``, zero where the source frame is missing.

        Output frame ``i`` of channel ``c`` reads frame ``i*stride + floor(shift[c])``
        and, when fractional, the next one. With stride 1 the next frame of output
        ``i`` is the first frame of output ``i+1``, so ``T+1`` rows serve both taps.
        """
        shift = self.shift.clamp(-self.limit, self.limit)
        low = shift.detach().floor()
        device, c = shift.device, shift.numel()
        starts = torch.arange(0, t, self.stride, device=device)
        if not self.learnable:
            rows = starts
        elif self.stride == 1:
            rows = torch.arange(t + 1, device=device)
        else:
            rows = torch.stack([starts, starts + 1], dim=1).reshape(-1)
        frames = rows.unsqueeze(1) + low.long().unsqueeze(0)  # (R, C)
        valid = ((frames >= 0) & (frames < t)).to(dtype)
        joint_chan = torch.arange(v * c, device=device).view(1, v, c)
        index = (frames.clamp(0, t - 1).unsqueeze(1) * (v * c) + joint_chan).reshape(-1)
        if not self.learnable:
            return index, valid.unsqueeze(1), None
        frac = (shift - low).to(dtype)
        w_low = (1 - frac) * valid[self._low_rows]
        w_high = frac * valid[self._high_rows]
        return index, w_low.unsqueeze(1), w_high.unsqueeze(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, t, v, c = x.shape
        if torch.is_grad_enabled() and self.shift.requires_grad:
            index, w_low, w_high = self._plan(t, v, x.dtype)
        else:
            # When the shifts take no gradient the plan only changes with their values
            # (the version counter moves on every in-place update, load_state_dict
            # included), so it is memoised; per inference mode, since a tensor made
            # under ``torch.inference_mode`` cannot later be saved for backward.
            key = (
                t,
                v,
                x.dtype,
                x.device,
                torch.is_inference_mode_enabled(),
                self.shift.data_ptr(),
                self.shift._version,
            )
            if self._memo is None or self._memo[0] != key:
                self._memo = (key, self._plan(t, v, x.dtype))
            index, w_low, w_high = self._memo[1]
        gathered = x.reshape(n, -1).index_select(1, index).view(n, -1, v, c)
        if w_high is None:
            return gathered.mul_(w_low)
        low_tap = gathered[:, self._low_rows] * w_low
        return low_tap.addcmul_(gathered[:, self._high_rows], w_high)


class SpatialShiftGraphConv(nn.Module):
    """Non-local spatial shift -> joint-wise mask -> pointwise projection -> inverse shift.

    The learnable mask ``tanh(m) + 1`` (one weight per joint and channel, 1 at init)
    lets the network weight which shifted joint-channel pairs matter.
    """

    def __init__(self, in_channels: int, out_channels: int, num_joints: int) -> None:
        super().__init__()
        self.register_buffer(
            "shift_in", _spatial_shift_index(num_joints, in_channels, +1), persistent=False
        )
        self.register_buffer(
            "shift_out", _spatial_shift_index(num_joints, out_channels, -1), persistent=False
        )
        self.mask = nn.Parameter(torch.zeros(num_joints, in_channels))
        self.linear = nn.Linear(in_channels, out_channels)
        self.bn = nn.BatchNorm1d(num_joints * out_channels)
        # Residual: identity, channel repetition when the width grows by an integer
        # factor (free, unlike Shift-GCN's projection), else a projection.
        self.repeat = out_channels // in_channels
        self.down: nn.Module | None = None
        if out_channels % in_channels:
            self.down = nn.Linear(in_channels, out_channels)
            self.down_bn = nn.BatchNorm1d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, t, v, c = x.shape
        y = x.reshape(n * t, v * c).index_select(1, self.shift_in).view(n * t, v, c)
        y = self.linear(y * (torch.tanh(self.mask) + 1))
        y = y.reshape(n * t, -1).index_select(1, self.shift_out)
        y = self.bn(y).view(n, t, v, -1)
        if self.down is not None:
            skip = _channel_norm(self.down_bn, self.down(x))
        else:
            skip = x if self.repeat == 1 else x.repeat(1, 1, 1, self.repeat)
        return y.add_(skip).relu_()  # in place: BatchNorm's backward does not need y


class TemporalShiftConv(nn.Module):
    """BN -> temporal shift (with stride) -> pointwise projection -> ReLU -> shift -> BN.

    The stride is applied by the first shift, so the projection already runs on the
    subsampled frames (half or less of the work of striding at the end).
    """

    def __init__(self, channels: int, stride: int, radius: int, learnable: bool) -> None:
        super().__init__()
        self.bn_in = nn.BatchNorm1d(channels)
        self.shift_in = TemporalShift(channels, radius, learnable, stride=stride)
        self.linear = nn.Linear(channels, channels)
        self.shift_out = TemporalShift(channels, radius, learnable)
        self.bn_out = nn.BatchNorm1d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.shift_in(_channel_norm(self.bn_in, x))
        y = self.shift_out(self.linear(y).relu_())
        return _channel_norm(self.bn_out, y)


class ShiftBlock(nn.Module):
    """One Shift-GCN unit: spatial shift graph conv + temporal shift conv + residual."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        num_joints: int,
        stride: int,
        radius: int,
        learnable: bool,
    ) -> None:
        super().__init__()
        self.gcn = SpatialShiftGraphConv(in_channels, out_channels, num_joints)
        self.tcn = TemporalShiftConv(out_channels, stride, radius, learnable)
        self.stride = stride
        self.res_proj: nn.Module | None = None
        if in_channels != out_channels or stride != 1:
            self.res_proj = nn.Linear(in_channels, out_channels)
            self.res_bn = nn.BatchNorm1d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.tcn(self.gcn(x))
        if self.res_proj is None:
            return y.add_(x).relu_()
        skip = _channel_norm(self.res_bn, self.res_proj(x[:, :: self.stride]))
        return y.add_(skip).relu_()


class ShiftGCNEncoder(nn.Module):
    """Skeleton window ``(N, 3, T, V)`` -> joint tokens ``(N, C, T', V)``.

    A per-joint-and-coordinate input BatchNorm (as in Shift-GCN) removes the need for a
    hand-tuned coordinate scale. ``T`` need not be a multiple of the patch: the window is
    zero-padded (zero is the normalised mean) up to the next multiple.
    """

    def __init__(self, config: EncoderConfig | None = None) -> None:
        super().__init__()
        self.config = config or EncoderConfig()
        cfg = self.config
        self.data_bn = nn.BatchNorm1d(cfg.num_joints * cfg.in_channels)
        self.stem = nn.Linear(cfg.patch * cfg.in_channels, cfg.stem_width)
        self.stem_bn = nn.BatchNorm1d(cfg.stem_width)
        blocks = []
        in_ch = cfg.stem_width
        for width, stride in zip(cfg.widths, cfg.strides, strict=True):
            blocks.append(
                ShiftBlock(
                    in_ch, width, cfg.num_joints, stride, cfg.temporal_radius, cfg.learnable_shift
                )
            )
            in_ch = width
        self.blocks = nn.ModuleList(blocks)

    @property
    def out_channels(self) -> int:
        return self.config.out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        cfg = self.config
        if (
            x.dim() != 4
            or x.shape[1] != cfg.in_channels
            or x.shape[3] != cfg.num_joints
            or x.shape[2] < 1
        ):
            raise ValueError(
                f"ShiftGCNEncoder expects (N, {cfg.in_channels}, T, {cfg.num_joints}), "
                f"got {tuple(x.shape)}"
            )
        n, c, t, v = x.shape
        y = self.data_bn(x.permute(0, 2, 3, 1).reshape(n * t, v * c)).view(n, t, v, c)
        y = F.pad(y, (0, 0, 0, 0, 0, -t % cfg.patch))
        patches = y.view(n, -1, cfg.patch, v, c).transpose(2, 3).reshape(n, -1, v, cfg.patch * c)
        y = F.relu(_channel_norm(self.stem_bn, self.stem(patches)))
        for block in self.blocks:
            y = block(y)
        return y.permute(0, 3, 1, 2)  # (N, C, T', V)
