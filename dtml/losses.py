"""Loss terms of Sec. 3.2, in the form the authors' code computes them.

All functions take logits / SDF predictions of shape (B, 1, X, Y, Z) and binary targets of the same
shape, and return a scalar tensor.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from dtml.sdf import sdf_to_mask

DICE_EPS = 1e-5


def _full(x: Tensor) -> Tensor:
    """Losses are reduced in at least float32, also under bf16 autocast (float64 stays float64)."""
    return x.float() if x.dtype in (torch.bfloat16, torch.float16) else x


def soft_dice_loss(prob: Tensor, target: Tensor, eps: float = DICE_EPS) -> Tensor:
    """1 - (2 sum(p g) + eps) / (sum(p^2) + sum(g^2) + eps), pooled over the batch (official form)."""
    target = target.to(prob.dtype)
    inter = (prob * target).sum()
    return 1 - (2 * inter + eps) / ((prob * prob).sum() + (target * target).sum() + eps)


def seg_loss(logits: Tensor, target: Tensor) -> Tensor:
    """L_seg of M_s: 0.5 * (binary cross-entropy + soft Dice)."""
    logits = _full(logits)
    bce = F.binary_cross_entropy_with_logits(logits, target.to(logits.dtype))
    return 0.5 * (bce + soft_dice_loss(torch.sigmoid(logits), target))


def mask_loss(sdf: Tensor, target: Tensor, k: float) -> Tensor:
    """L_mask of M_d: soft Dice between sdf_to_mask(sdf) (Eq. 2) and the label."""
    return soft_dice_loss(sdf_to_mask(_full(sdf), k), target)


def dis_loss(sdf: Tensor, target_sdf: Tensor, norm: str = "l2") -> Tensor:
    """L_dis of M_d: L2 (paper) or L1 (authors' code) between predicted and target SDF."""
    if norm == "l2":
        return F.mse_loss(_full(sdf), target_sdf.to(_full(sdf).dtype))
    if norm == "l1":
        return F.l1_loss(_full(sdf), target_sdf.to(_full(sdf).dtype))
    raise ValueError(f"norm must be 'l1' or 'l2', got '{norm}'")


def cross_task_consistency(seg_logits: Tensor, sdf: Tensor, k: float) -> Tensor:
    """Eq. (4) without its weight: mean squared difference of the two probability maps."""
    return torch.mean((sdf_to_mask(_full(sdf), k) - torch.sigmoid(_full(seg_logits))) ** 2)
