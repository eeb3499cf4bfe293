"""The V-Net backbone shared by M_s and M_d (paper Sec. 3.1, Fig. 1), with two 1x1x1 heads.

Layout as in the authors' code (see ``docs/authors_code.md``): encoder stages of 1/2/3/3/3
3x3x3 convolutions (each + BatchNorm3d + ReLU) at widths f, 2f, 4f, 8f, 16f; strided 2x2x2
down-convolutions; transposed 2x2x2 up-convolutions whose output is ADDED to the skip; decoder
stages of 3/3/2/1 convolutions; Dropout3d(0.5) on the bottleneck and before the heads (training
only). ``forward`` returns ``(seg_logits, sdf)``: M_s uses the first, M_d the second (tanh).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import torch
from torch import Tensor, nn

ENCODER_DEPTHS = (1, 2, 3, 3, 3)
DECODER_DEPTHS = (3, 3, 2, 1)


class ConvStack(nn.Sequential):
    """``depth`` x (3x3x3 conv + BN + ReLU); flat Sequential so indices match the official keys."""

    def __init__(self, depth: int, cin: int, cout: int, norm: bool = True):
        layers: list[nn.Module] = []
        for i in range(depth):
            layers.append(nn.Conv3d(cin if i == 0 else cout, cout, 3, padding=1))
            if norm:
                layers.append(nn.BatchNorm3d(cout))
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class Resample(nn.Sequential):
    """Stride-2 2x2x2 (transposed) convolution + BN + ReLU."""

    def __init__(self, cin: int, cout: int, up: bool, norm: bool = True):
        conv = nn.ConvTranspose3d if up else nn.Conv3d
        layers: list[nn.Module] = [conv(cin, cout, 2, stride=2)]
        if norm:
            layers.append(nn.BatchNorm3d(cout))
        layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class VNet(nn.Module):
    """Dual-head V-Net. ``VNet()`` is the paper's network (1 channel, 16 filters, BN, dropout 0.5).

    Input sizes must be divisible by 16 along each axis (four 2x down-samplings).
    """

    def __init__(
        self,
        in_channels: int = 1,
        base_filters: int = 16,
        batchnorm: bool = True,
        dropout: float = 0.5,
    ):
        super().__init__()
        widths = [base_filters * 2**i for i in range(5)]
        self.enc = nn.ModuleList(
            ConvStack(d, in_channels if i == 0 else widths[i], widths[i], batchnorm)
            for i, d in enumerate(ENCODER_DEPTHS)
        )
        self.down = nn.ModuleList(
            Resample(widths[i], widths[i + 1], up=False, norm=batchnorm) for i in range(4)
        )
        self.up = nn.ModuleList(
            Resample(widths[4 - i], widths[3 - i], up=True, norm=batchnorm) for i in range(4)
        )
        self.dec = nn.ModuleList(
            ConvStack(d, widths[3 - i], widths[3 - i], batchnorm)
            for i, d in enumerate(DECODER_DEPTHS)
        )
        self.dropout = nn.Dropout3d(dropout) if dropout > 0 else nn.Identity()
        self.sdf_head = nn.Conv3d(base_filters, 1, 1)
        self.seg_head = nn.Conv3d(base_filters, 1, 1)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        if any(s % 16 for s in x.shape[2:]):
            raise ValueError(
                f"VNet input spatial size {tuple(x.shape[2:])} must be divisible by 16"
            )
        skips = []
        for i in range(4):
            x = self.enc[i](x)
            skips.append(x)
            x = self.down[i](x)
        x = self.dropout(self.enc[4](x))
        for i in range(4):
            x = self.dec[i](self.up[i](x) + skips[3 - i])
        x = self.dropout(x)
        return self.seg_head(x), torch.tanh(self.sdf_head(x))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


_NUMBERS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def _official_prefixes() -> dict[str, str]:
    """Our module prefix -> the authors' module prefix."""
    m = {}
    for i in range(5):
        m[f"enc.{i}."] = f"block_{_NUMBERS[i]}.conv."
    for i in range(4):
        m[f"down.{i}."] = f"block_{_NUMBERS[i]}_dw.conv."
        m[f"up.{i}."] = f"block_{_NUMBERS[4 + i]}_up.conv."
        m[f"dec.{i}."] = f"block_{_NUMBERS[5 + i]}.conv."
    m["sdf_head."] = "out_conv."
    m["seg_head."] = "out_conv2."
    return m


def _rename(keys_map: dict[str, str], key: str) -> str:
    for ours, theirs in keys_map.items():
        if key.startswith(ours):
            return theirs + key[len(ours) :]
    raise KeyError(key)


def to_official_state_dict(model: VNet) -> dict[str, Tensor]:
    """Our state dict under the authors' key names (``block_one.conv.0.weight`` ...)."""
    m = _official_prefixes()
    return {_rename(m, k): v for k, v in model.state_dict().items()}


def load_official_state_dict(model: VNet, state_dict: Mapping[str, Tensor]) -> VNet:
    """Load a checkpoint saved by the authors' code (``module.`` prefixes of DataParallel ok)."""
    inverse = {v: k for k, v in _official_prefixes().items()}
    ours = {}
    for key, value in state_dict.items():
        key = re.sub(r"^module\.", "", key)
        try:
            ours[_rename(inverse, key)] = value
        except KeyError:
            raise ValueError(f"unexpected key in official state dict: '{key}'") from None
    missing, unexpected = model.load_state_dict(ours, strict=False)
    if missing or unexpected:
        raise ValueError(f"official state dict does not fit: missing {missing}, extra {unexpected}")
    return model
