"""Every training method, selectable by name, described in one place.

A method builds its networks and turns one batch into one scalar loss; the training loop does a
single backward pass of that loss. Names (``METHODS``):

- ``supervised``: a V-Net trained with L_seg on labeled scans (Table 3 lower/upper bound,
  Table 2 "M_s only"). Labeled-only methods keep the labeled batch of 2 that DTML sees, so the
  ablation isolates the unlabeled data; UA-MT's V-Net baseline (the source of the paper's bound
  numbers) used batch 4 of labeled scans.
- ``sdf_only``: a V-Net whose SDF head is trained with the M_d loss (Table 2 "M_d only").
- ``dtml``: M_s + M_d with cross-task consistency on every sample of the batch (Eqs. 4-6,
  Tables 1 and 3). With ``unlabeled_bs = 0`` (method ``dtml_labeled``) it is Table 2's "DTML" row.
- ``mean_teacher``, ``ua_mt``, ``dtc``: the baselines of Table 3, re-implemented with this project's
  single-channel sigmoid heads (the originals use 2-class softmax; see each class).

Fidelity (``official`` vs ``paper``) only changes DTML: the authors' two backward passes give each
network the consistency gradient twice, which equals one backward of L_seg + L_md + 2*lambda*C; the
paper's Eqs. (5)-(6) give each network lambda*C once. Ramp and L_dis norm differ too (see below).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dtml.config import TrainConfig
from dtml.losses import cross_task_consistency, dis_loss, mask_loss, seg_loss, soft_dice_loss
from dtml.nets import VNet
from dtml.schedules import official_rampup, paper_rampup
from dtml.sdf import normalized_signed_distance


@dataclass
class Batch:
    """One training batch: ``image`` holds the labeled samples first, then the unlabeled ones."""

    image: Tensor  # (L + U, 1, X, Y, Z)
    label: Tensor  # (L, 1, X, Y, Z), uint8/float; unlabeled samples never carry a label

    @property
    def n_labeled(self) -> int:
        return self.label.shape[0]


def sdf_target(label: Tensor) -> Tensor:
    """Normalised SDF target of the labeled half (only computed when the loss uses it)."""
    sdf = normalized_signed_distance(label[:, 0].cpu().numpy().astype(bool))
    return torch.from_numpy(np.asarray(sdf, dtype=np.float32))[:, None].to(label.device)


def md_loss(cfg: TrainConfig, sdf: Tensor, label: Tensor) -> Tensor:
    """Supervision of M_d (Table 1): L_mask, L_dis, or their sum, on the labeled half only.

    L_dis uses L2 in ``paper`` fidelity (as printed) and L1 in ``official`` (the authors' code,
    where it is computed over all four samples, including the unlabeled scans' labels, and then not
    used; we never touch unlabeled labels).
    """
    loss = sdf.new_zeros(())
    if "mask" in cfg.md_loss:
        loss = loss + mask_loss(sdf, label, cfg.k)
    if "dis" in cfg.md_loss:
        norm = "l1" if cfg.fidelity == "official" else "l2"
        loss = loss + dis_loss(sdf, sdf_target(label), norm)
    return loss


def consistency_weight(cfg: TrainConfig, iteration: int) -> float:
    """lambda(t): the official stepped sigmoid ramp, or the paper's printed formula."""
    if cfg.fidelity == "official":
        return official_rampup(iteration, cfg.lambda_max, cfg.rampup_step, cfg.rampup_steps)
    return paper_rampup(iteration, cfg.iterations, cfg.lambda_max)


def _vnet(cfg: TrainConfig) -> VNet:
    return VNet(1, cfg.base_filters, dropout=cfg.dropout)


class Method:
    """Base: subclasses set ``name``, ``nets`` and implement ``loss``."""

    name = ""
    uses_unlabeled = True
    #: trainable networks, by role: "seg" (M_s), "sdf" (M_d), or "dual" (one net, both heads)
    roles: tuple[str, ...] = ("seg",)

    def build(self, cfg: TrainConfig) -> dict[str, nn.Module]:
        return {role: _vnet(cfg) for role in self.roles}

    def loss(
        self, nets: dict[str, nn.Module], batch: Batch, iteration: int, cfg: TrainConfig
    ) -> tuple[Tensor, dict[str, float]]:
        raise NotImplementedError

    def after_step(self, nets: dict[str, nn.Module], iteration: int) -> None:
        """Hook after the optimiser step (EMA teachers)."""

    def inference_nets(self, nets: dict[str, nn.Module]) -> dict[str, nn.Module]:
        """Networks for ``dtml.infer.predict_case``: keys ``seg_net`` and/or ``sdf_net``."""
        out = {}
        if "seg" in nets:
            out["seg_net"] = nets["seg"]
        if "sdf" in nets:
            out["sdf_net"] = nets["sdf"]
        if "dual" in nets:
            out["seg_net"] = out["sdf_net"] = nets["dual"]
        return out

    def default_mode(self) -> str:
        return "sdf" if self.roles == ("sdf",) else "seg"


class Supervised(Method):
    name = "supervised"
    uses_unlabeled = False

    def loss(self, nets, batch, iteration, cfg):
        logits, _ = nets["seg"](batch.image)
        loss = seg_loss(logits, batch.label)
        return loss, {"loss": loss.item(), "l_seg": loss.item()}


class SdfOnly(Method):
    name = "sdf_only"
    uses_unlabeled = False
    roles = ("sdf",)

    def loss(self, nets, batch, iteration, cfg):
        _, sdf = nets["sdf"](batch.image)
        loss = md_loss(cfg, sdf, batch.label)
        return loss, {"loss": loss.item(), "l_md": loss.item()}


class DTML(Method):
    """Dual-task mutual learning (Eqs. 4-6)."""

    name = "dtml"
    roles = ("seg", "sdf")

    def loss(self, nets, batch, iteration, cfg):
        n = batch.n_labeled
        seg_logits, _ = nets["seg"](batch.image)
        _, sdf = nets["sdf"](batch.image)
        l_seg = seg_loss(seg_logits[:n], batch.label)
        l_md = md_loss(cfg, sdf[:n], batch.label)
        con = cross_task_consistency(seg_logits, sdf, cfg.k)  # over ALL samples (Eqs. 5-6)
        lam = consistency_weight(cfg, iteration)
        # official: two backward passes each containing lambda*C == one pass with 2*lambda*C
        mult = 2.0 if cfg.fidelity == "official" else 1.0
        loss = l_seg + l_md + mult * lam * con
        logs = {"loss": loss.item(), "l_seg": l_seg.item(), "l_md": l_md.item()}
        logs.update({"l_con": con.item(), "lambda": lam})
        return loss, logs


class DTMLLabeled(DTML):
    """Table 2's DTML row: both networks and the consistency, labeled scans only."""

    name = "dtml_labeled"
    uses_unlabeled = False


def sigmoid_rampup(current: float, length: float) -> float:
    """UA-MT's Gaussian ramp exp(-5 (1 - t/length)^2), used by the baselines."""
    if length == 0:
        return 1.0
    phase = 1.0 - min(max(current, 0.0), length) / length
    return math.exp(-5.0 * phase * phase)


class Baseline(Method):
    """Baselines have their own fixed consistency weights (``cfg.consistency`` must stay unset)."""

    def loss(self, nets, batch, iteration, cfg):
        if cfg.consistency is not None:
            raise ValueError(f"method '{self.name}' has a fixed consistency weight; unset it")
        return self.baseline_loss(nets, batch, iteration, cfg)

    def baseline_loss(self, nets, batch, iteration, cfg):
        raise NotImplementedError


class MeanTeacher(Baseline):
    """Mean teacher (Tarvainen & Valpola 2017) as configured in UA-MT's LA code.

    Consistency: MSE between student and EMA-teacher probabilities on the unlabeled half, the
    teacher's input perturbed with clamp(N(0, 0.1), -0.2, 0.2) noise; weight 0.1 * ramp(t // 150, 40);
    EMA decay min(1 - 1/(t+1), 0.99). Differences from UA-MT's code: one sigmoid channel instead
    of a 2-class softmax, and the teacher starts as a copy of the student (theirs is initialised
    independently; with alpha = 0 at the first update only the iteration-0 target differs).
    """

    name = "mean_teacher"
    ema_decay = 0.99
    consistency_max = 0.1

    def build(self, cfg):
        nets = {"seg": _vnet(cfg)}
        teacher = _vnet(cfg)
        teacher.load_state_dict(nets["seg"].state_dict())
        for p in teacher.parameters():
            p.requires_grad_(False)
        nets["teacher"] = teacher
        return nets

    def weight(self, cfg, iteration):
        return self.consistency_max * sigmoid_rampup(iteration // cfg.rampup_step, cfg.rampup_steps)

    def teacher_probs(self, teacher, x):
        noise = torch.clamp(torch.randn_like(x) * 0.1, -0.2, 0.2)
        with torch.no_grad():
            return torch.sigmoid(teacher(x + noise)[0].float())

    def consistency(self, nets, student_prob, x_unl, iteration, cfg):
        return F.mse_loss(student_prob, self.teacher_probs(nets["teacher"], x_unl))

    def baseline_loss(self, nets, batch, iteration, cfg):
        n = batch.n_labeled
        logits, _ = nets["seg"](batch.image)
        l_seg = seg_loss(logits[:n], batch.label)
        con = self.consistency(
            nets, torch.sigmoid(logits[n:].float()), batch.image[n:], iteration, cfg
        )
        lam = self.weight(cfg, iteration)
        loss = l_seg + lam * con
        return loss, {
            "loss": loss.item(),
            "l_seg": l_seg.item(),
            "l_con": con.item(),
            "lambda": lam,
        }

    def after_step(self, nets, iteration):
        # parameters only: the teacher's BN statistics come from its own forward passes, as in UA-MT
        alpha = min(1.0 - 1.0 / (iteration + 1), self.ema_decay)
        with torch.no_grad():
            for t, s in zip(nets["teacher"].parameters(), nets["seg"].parameters(), strict=True):
                t.mul_(alpha).add_(s, alpha=1 - alpha)

    def inference_nets(self, nets):
        return {"seg_net": nets["seg"]}


class UAMT(MeanTeacher):
    """Uncertainty-aware mean teacher (Yu et al. 2019): the consistency is masked to voxels whose
    teacher entropy (T=8 noisy passes) is below a threshold ramped from 0.75 to 1.0 of ln 2.

    UA-MT runs its 8 passes as 4 passes of a duplicated batch of 4; we run 8 passes of the
    unlabeled batch (2), so the teacher's train-mode BatchNorm statistics differ slightly.
    """

    name = "ua_mt"
    passes = 8

    def consistency(self, nets, student_prob, x_unl, iteration, cfg):
        with torch.no_grad():
            probs = torch.stack(
                [self.teacher_probs(nets["teacher"], x_unl) for _ in range(self.passes)]
            ).mean(0)
            eps = 1e-6
            entropy = -(probs * torch.log(probs + eps) + (1 - probs) * torch.log(1 - probs + eps))
            target = self.teacher_probs(nets["teacher"], x_unl)
        threshold = (0.75 + 0.25 * sigmoid_rampup(iteration, cfg.iterations)) * math.log(2)
        mask = (entropy < threshold).float()
        return torch.sum(mask * (student_prob - target) ** 2) / (torch.sum(mask) + 1e-16)


class DTC(Baseline):
    """Dual-task consistency (Luo et al. 2021) as its LA code runs: ONE V-Net with both heads;
    soft Dice on the segmentation (their BCE term is computed but not used) + 0.3 * L2 to the
    normalised SDF on labeled scans, plus 1.0 * ramp(t // 150, 40) * C (Eq. 4's consistency) on
    every sample (their ``--consistency_weight 0.1`` argument is never read; ``consistency`` = 1.0
    is)."""

    name = "dtc"
    roles = ("dual",)
    sdf_weight = 0.3
    consistency_max = 1.0

    def baseline_loss(self, nets, batch, iteration, cfg):
        n = batch.n_labeled
        seg_logits, sdf = nets["dual"](batch.image)
        l_seg = soft_dice_loss(torch.sigmoid(seg_logits[:n].float()), batch.label)
        l_dis = dis_loss(sdf[:n], sdf_target(batch.label), "l2")
        con = cross_task_consistency(seg_logits, sdf, cfg.k)
        lam = self.consistency_max * sigmoid_rampup(iteration // cfg.rampup_step, cfg.rampup_steps)
        loss = l_seg + self.sdf_weight * l_dis + lam * con
        logs = {"loss": loss.item(), "l_seg": l_seg.item(), "l_dis": l_dis.item()}
        logs.update({"l_con": con.item(), "lambda": lam})
        return loss, logs


METHODS: dict[str, type[Method]] = {
    m.name: m for m in (Supervised, SdfOnly, DTML, DTMLLabeled, MeanTeacher, UAMT, DTC)
}


def get_method(name: str) -> Method:
    if name not in METHODS:
        raise ValueError(f"unknown method '{name}', expected one of {sorted(METHODS)}")
    return METHODS[name]()


def resolve(cfg: TrainConfig) -> TrainConfig:
    """Normalise a config before it is hashed: labeled-only methods draw no unlabeled samples."""
    method = get_method(cfg.method)
    if not method.uses_unlabeled and cfg.unlabeled_bs:
        cfg = cfg.replace(unlabeled_bs=0)
    return cfg
