import pytest
import torch

from dtml.losses import cross_task_consistency, dis_loss, mask_loss, seg_loss, soft_dice_loss


def test_soft_dice_matches_official_formula():
    torch.manual_seed(0)
    p, g = torch.rand(2, 1, 4, 4, 4), (torch.rand(2, 1, 4, 4, 4) > 0.5).float()
    expected = 1 - (2 * (p * g).sum() + 1e-5) / ((p**2).sum() + (g**2).sum() + 1e-5)
    assert torch.allclose(soft_dice_loss(p, g), expected)
    assert soft_dice_loss(g, g) < 1e-6


def test_seg_loss_is_half_bce_plus_dice():
    logits = torch.randn(2, 1, 4, 4, 4)
    g = (torch.rand(2, 1, 4, 4, 4) > 0.5).float()
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, g)
    assert torch.allclose(seg_loss(logits, g), 0.5 * (bce + soft_dice_loss(logits.sigmoid(), g)))


def test_mask_loss_uses_inside_negative_convention():
    g = torch.zeros(1, 1, 4, 4, 4)
    g[..., 1:3, 1:3, 1:3] = 1
    sdf = torch.where(g > 0, -0.5, 0.5)  # negative inside
    assert mask_loss(sdf, g, k=1500) < 1e-6
    assert mask_loss(-sdf, g, k=1500) > 0.99


def test_dis_loss_norms():
    a, b = torch.zeros(3), torch.tensor([1.0, -2.0, 2.0])
    assert dis_loss(a, b, "l2") == pytest.approx(3.0)
    assert dis_loss(a, b, "l1") == pytest.approx(5 / 3)
    with pytest.raises(ValueError):
        dis_loss(a, b, "l3")


def test_consistency_is_zero_for_agreeing_maps_and_positive_otherwise():
    sdf = torch.tensor([-0.5, 0.5])
    agree = torch.tensor([20.0, -20.0])  # logits: inside -> 1, outside -> 0
    assert cross_task_consistency(agree, sdf, 1500) < 1e-8
    assert cross_task_consistency(-agree, sdf, 1500) == pytest.approx(1.0, abs=1e-6)
