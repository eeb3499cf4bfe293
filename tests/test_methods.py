import copy

import pytest
import torch

from dtml.config import TrainConfig
from dtml.losses import cross_task_consistency, mask_loss, seg_loss
from dtml.methods import METHODS, Batch, consistency_weight, get_method, resolve


def tiny_batch(n_lab=2, n_unl=2, size=16, seed=0) -> Batch:
    g = torch.Generator().manual_seed(seed)
    image = torch.randn(n_lab + n_unl, 1, size, size, size, generator=g, dtype=torch.float64)
    label = torch.zeros(n_lab, 1, size, size, size, dtype=torch.float64)
    label[..., 4:12, 5:11, 4:10] = 1
    return Batch(image=image, label=label)


def cfg_for(fidelity: str, **kw) -> TrainConfig:
    return TrainConfig(base_filters=2, patch=(16, 16, 16), fidelity=fidelity, rampup_step=1, **kw)


def grads(nets) -> dict[str, torch.Tensor]:
    """Gradients by parameter name; the head a network does not use has none (as in theirs)."""
    return {
        f"{role}.{name}": p.grad.clone()
        for role, net in nets.items()
        for name, p in net.named_parameters()
        if p.grad is not None
    }


def authors_two_pass(nets, batch, cfg, it):
    """The authors' update: two losses that both contain lambda*C, two backward passes."""
    n = batch.n_labeled
    seg_logits, _ = nets["seg"](batch.image)
    _, sdf = nets["sdf"](batch.image)
    lam = consistency_weight(cfg, it)
    con = cross_task_consistency(seg_logits, sdf, cfg.k)
    loss_s = seg_loss(seg_logits[:n], batch.label) + lam * con
    loss_d = mask_loss(sdf[:n], batch.label, cfg.k) + lam * con
    loss_s.backward(retain_graph=True)
    loss_d.backward()


@pytest.mark.parametrize("it", [3, 40])
def test_official_one_pass_equals_authors_two_pass(it):
    cfg = cfg_for("official")
    method = get_method("dtml")
    torch.manual_seed(0)
    nets = {k: v.double() for k, v in method.build(cfg).items()}  # float64: exact comparison
    twin = copy.deepcopy(nets)
    batch = tiny_batch()
    torch.manual_seed(1)  # same dropout masks in both
    loss, _ = method.loss(nets, batch, it, cfg)
    loss.backward()
    torch.manual_seed(1)
    authors_two_pass(twin, batch, cfg, it)
    ours, theirs = grads(nets), grads(twin)
    assert ours.keys() == theirs.keys()
    for key in ours:
        torch.testing.assert_close(ours[key], theirs[key], rtol=1e-9, atol=1e-12, msg=key)


def test_paper_fidelity_counts_consistency_once():
    """Paper Eqs. (5)-(6): each network sees lambda*C once, so official - paper = lambda * dC."""
    method = get_method("dtml")
    torch.manual_seed(0)
    nets = {k: v.double() for k, v in method.build(cfg_for("paper")).items()}
    batch, it = tiny_batch(), 50
    results = {}
    for fidelity in ("paper", "official"):
        cfg = cfg_for(fidelity, consistency=0.1)
        for net in nets.values():
            net.zero_grad()
        torch.manual_seed(1)
        loss, logs = method.loss(nets, batch, it, cfg)
        loss.backward()
        results[fidelity] = (grads(nets), logs)
    for net in nets.values():
        net.zero_grad()
    torch.manual_seed(1)
    seg_logits, _ = nets["seg"](batch.image)
    _, sdf = nets["sdf"](batch.image)
    lam = results["paper"][1]["lambda"]
    (lam * cross_task_consistency(seg_logits, sdf, 1500.0)).backward()
    d_con = grads(nets)
    for key, g in d_con.items():
        diff = results["official"][0][key] - results["paper"][0][key]
        # official lambda uses the stepped ramp, paper the printed one: compare with each lambda
        lam_off = results["official"][1]["lambda"]
        torch.testing.assert_close(diff, (2 * lam_off - lam) / lam * g, rtol=1e-7, atol=1e-12)


def test_consistency_covers_labeled_and_unlabeled_samples():
    method, cfg = get_method("dtml"), cfg_for("official")
    torch.manual_seed(0)
    nets = method.build(cfg)
    for net in nets.values():
        net.eval()
    batch = tiny_batch()
    batch = Batch(batch.image.float(), batch.label.float())
    _, logs = method.loss(nets, batch, 10, cfg)
    seg_logits, _ = nets["seg"](batch.image)
    _, sdf = nets["sdf"](batch.image)
    expected = cross_task_consistency(seg_logits, sdf, cfg.k).item()
    assert logs["l_con"] == pytest.approx(expected, rel=1e-5)


def test_md_loss_options_change_the_objective():
    method = get_method("sdf_only")
    torch.manual_seed(0)
    nets = method.build(cfg_for("official"))
    for net in nets.values():
        net.eval()
    batch = tiny_batch(n_unl=0)
    batch = Batch(batch.image.float(), batch.label.float())
    values = {
        md: method.loss(nets, batch, 0, cfg_for("official", md_loss=md))[0].item()
        for md in ("mask", "dis", "dis+mask")
    }
    assert values["dis+mask"] == pytest.approx(values["dis"] + values["mask"], rel=1e-5)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_every_method_gives_a_finite_loss_with_gradients(name):
    method = get_method(name)
    cfg = cfg_for("official", method=name)
    torch.manual_seed(0)
    nets = method.build(cfg)
    batch = tiny_batch(n_unl=2 if method.uses_unlabeled else 0)
    batch = Batch(batch.image.float(), batch.label.float())
    loss, logs = method.loss(nets, batch, 5, cfg)
    assert torch.isfinite(loss) and logs["loss"] == pytest.approx(loss.item())
    loss.backward()
    encoders = [p for role in method.roles for p in nets[role].enc.parameters()]
    assert all(p.grad is not None for p in encoders)
    assert method.inference_nets(nets)


def test_mean_teacher_ema_moves_teacher_towards_student():
    method = get_method("mean_teacher")
    torch.manual_seed(0)
    nets = method.build(cfg_for("official"))
    with torch.no_grad():
        for p in nets["seg"].parameters():
            p.add_(1.0)
    before = [p.clone() for p in nets["teacher"].parameters()]
    method.after_step(nets, iteration=100)  # alpha = 0.99
    for b, t, s in zip(before, nets["teacher"].parameters(), nets["seg"].parameters(), strict=True):
        torch.testing.assert_close(t, 0.99 * b + 0.01 * s)


def test_labeled_only_methods_draw_no_unlabeled_samples():
    assert resolve(TrainConfig(method="supervised")).unlabeled_bs == 0
    assert resolve(TrainConfig(method="dtml_labeled")).unlabeled_bs == 0
    assert resolve(TrainConfig(method="dtml")).unlabeled_bs == 2


def test_unknown_method_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown method 'dmtl'"):
        get_method("dmtl")
