"""Benchmark: one DTML training step (official objective) vs a naive reference, and one whole
training iteration (batch + step) of each.

The reference is written the way the authors' loop works: the normalised SDF target is computed
every step although L_mask does not use it, and the update takes two backward passes (the first
with ``retain_graph=True``), each of a loss that contains lambda*C. Ours takes one backward pass
of L_seg + L_mask + 2*lambda*C (``dtml.methods.DTML``), optionally under bf16 autocast. Both start
from the same weights and batch; fp32 gradients must agree ("equal results").

A whole iteration adds the batch: 2 + 2 crops drawn and augmented from volumes in memory (as the
training loop's cached volumes) by ``dtml.train.make_batch``, which the authors' loop does the same
way (rot90/flip/random crop); theirs then feeds the network its default memory layout, ours the
channels-last one. The ``iteration_*`` fields time batch + step; ``batch_s`` the batch alone.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time
from contextlib import nullcontext

import numpy as np
import torch

from dtml.config import TrainConfig
from dtml.data.case import Case
from dtml.losses import cross_task_consistency, mask_loss, seg_loss
from dtml.methods import Batch, consistency_weight, get_method, sdf_target
from dtml.runs import hardware
from dtml.train import make_batch


def reference_step(nets, opt, batch: Batch, it: int, cfg: TrainConfig) -> None:
    """The authors' update: unused SDF target, two backward passes with a retained graph."""
    n = batch.n_labeled
    seg_logits, _ = nets["seg"](batch.image)
    _, sdf = nets["sdf"](batch.image)
    sdf_target(batch.label)  # computed every iteration and thrown away, as in their loop
    lam = consistency_weight(cfg, it)
    con = cross_task_consistency(seg_logits, sdf, cfg.k)
    loss_s = seg_loss(seg_logits[:n], batch.label) + lam * con
    loss_d = mask_loss(sdf[:n], batch.label, cfg.k) + lam * con
    opt.zero_grad(set_to_none=True)
    loss_s.backward(retain_graph=True)
    loss_d.backward()
    opt.step()


def our_step(nets, opt, batch: Batch, it: int, cfg: TrainConfig, bf16: bool) -> None:
    device_type = batch.image.device.type
    ctx = torch.autocast(device_type, dtype=torch.bfloat16) if bf16 else nullcontext()
    with ctx:
        loss, _ = get_method("dtml").loss(nets, batch, it, cfg)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


def _setup(cfg: TrainConfig, seed: int, channels_last: bool = False, device: str = "cpu"):
    """Networks and a batch; ours use the channels-last 3D layout the training loop uses."""
    fmt = torch.channels_last_3d if channels_last else torch.contiguous_format
    torch.manual_seed(seed)
    built = get_method("dtml").build(cfg).items()
    nets = {k: v.to(device, memory_format=fmt).train() for k, v in built}
    g = torch.Generator().manual_seed(seed)
    n = cfg.labeled_bs + cfg.unlabeled_bs
    image = torch.randn(n, 1, *cfg.patch, generator=g).contiguous(memory_format=fmt)
    label = torch.zeros(cfg.labeled_bs, 1, *cfg.patch)
    px, py, pz = cfg.patch
    label[..., px // 4 : 3 * px // 4, py // 4 : 3 * py // 4, pz // 4 : 3 * pz // 4] = 1
    return nets, Batch(image.to(device), label.to(device))


def _sgd(nets, cfg):
    params = [p for n in nets.values() for p in n.parameters()]
    return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()  # GPU work is asynchronous: time it to completion


def _time_interleaved(steps: dict, repeats: int, device: str = "cpu") -> dict[str, float]:
    """Best-of-``repeats`` seconds per step; variants alternate so machine load hits all alike."""
    for step in steps.values():
        step()  # warm-up (allocations, oneDNN / cuDNN kernel selection)
    _sync(device)
    best = dict.fromkeys(steps, float("inf"))
    for _ in range(repeats):
        for name, step in steps.items():
            t = time.perf_counter()
            step()
            _sync(device)
            best[name] = min(best[name], time.perf_counter() - t)
    return best


def stand_in_volumes(cfg: TrainConfig, seed: int, n: int = 4) -> tuple[list[Case], list[Case]]:
    """``n`` labeled and ``n`` unlabeled random volumes 1.5x the patch per axis (half-grid LA
    scans are ~1.5-2x the cpu profile's patch), labeled ones with a centred box label."""
    rng = np.random.default_rng(seed)
    shape = tuple(p * 3 // 2 for p in cfg.patch)
    label = np.zeros(shape, np.uint8)
    label[tuple(slice(s // 4, 3 * s // 4) for s in shape)] = 1

    def image() -> np.ndarray:
        return rng.standard_normal(shape, dtype=np.float32)

    labeled = [Case(f"l{i}", image(), label) for i in range(n)]
    return labeled, [Case(f"u{i}", image(), None) for i in range(n)]


def iteration(step, cfg: TrainConfig, volumes, device: str, reference: bool):
    """A whole-iteration closure: the batch of the next iteration number, then ``step(batch)``."""
    counter = iter(range(1 << 30))
    dev = torch.device(device)

    def run() -> None:
        batch = make_batch(cfg, next(counter), *volumes, dev)
        if reference:  # the authors' tensors have the default (contiguous) layout
            batch = Batch(batch.image.contiguous(), batch.label)
        step(batch)

    return run


def gradients_agree(cfg: TrainConfig, seed: int, device: str = "cpu") -> bool:
    """One step of each from the same state: the parameter updates must match.

    Checked in float64: at k = 1500, sigmoid(-k z) turns float32 rounding differences of z (from a
    different summation order, e.g. another memory layout) into visibly different gradients.
    """
    nets, batch = _setup(cfg, seed, channels_last=True, device=device)
    twin, ref_batch = _setup(cfg, seed, device=device)
    nets = {k: v.double() for k, v in nets.items()}
    twin = {k: v.double() for k, v in twin.items()}
    batch = Batch(batch.image.double(), batch.label.double())
    ref_batch = Batch(ref_batch.image.double(), ref_batch.label.double())
    opt_a, opt_b = _sgd(nets, cfg), _sgd(twin, cfg)
    torch.manual_seed(seed + 1)
    our_step(nets, opt_a, batch, 100, cfg, bf16=False)
    torch.manual_seed(seed + 1)
    reference_step(twin, opt_b, ref_batch, 100, cfg)
    pairs = zip(
        (p for n in nets.values() for p in n.parameters()),
        (p for n in twin.values() for p in n.parameters()),
        strict=True,
    )
    return all(torch.allclose(a, b, rtol=1e-9, atol=1e-12) for a, b in pairs)


def run(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(prog="python -m dtml.bench train-step", description=__doc__)
    p.add_argument("--filters", type=int, default=8)
    p.add_argument("--patch", default="48x48x32")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="cpu | cuda")
    args = p.parse_args([] if argv is None else argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    patch = tuple(int(v) for v in args.patch.split("x"))
    cfg = TrainConfig(base_filters=args.filters, patch=patch, rampup_step=1)
    equal = gradients_agree(cfg, args.seed, args.device)

    volumes = stand_in_volumes(cfg, args.seed)
    steps, iterations = {}, {}
    for name in ("reference", "ours_fp32", "ours_bf16"):
        nets, batch = _setup(cfg, args.seed, channels_last=name != "reference", device=args.device)
        opt = _sgd(nets, cfg)
        if name == "reference":

            def step(b, n=nets, o=opt):
                reference_step(n, o, b, 100, cfg)
        else:

            def step(b, n=nets, o=opt, f=name == "ours_bf16"):
                our_step(n, o, b, 100, cfg, f)

        steps[name] = lambda s=step, b=batch: s(b)
        iterations[name] = iteration(step, cfg, volumes, args.device, name == "reference")
    iterations["batch"] = iteration(lambda b: None, cfg, volumes, args.device, False)
    timings = _time_interleaved(steps, args.repeats, args.device)
    whole = _time_interleaved(iterations, args.repeats, args.device)
    result = {
        "bench": "train-step",
        "reference_s": round(timings["reference"], 4),
        "ours_s": round(timings["ours_fp32"], 4),
        "ours_bf16_s": round(timings["ours_bf16"], 4),
        "ratio": round(timings["reference"] / timings["ours_fp32"], 2),
        "ratio_bf16": round(timings["reference"] / timings["ours_bf16"], 2),
        "batch_s": round(whole["batch"], 4),
        "iteration_reference_s": round(whole["reference"], 4),
        "iteration_ours_s": round(whole["ours_fp32"], 4),
        "iteration_ours_bf16_s": round(whole["ours_bf16"], 4),
        "iteration_ratio": round(whole["reference"] / whole["ours_fp32"], 2),
        "iteration_ratio_bf16": round(whole["reference"] / whole["ours_bf16"], 2),
        "equal": equal,
        "config": {
            "filters": args.filters,
            "patch": list(patch),
            "batch": "2 labeled + 2 unlabeled",
            "volumes": [p * 3 // 2 for p in patch],
            "threads": torch.get_num_threads(),
            "device": args.device,
            "hardware": hardware(args.device),
            "repeats": args.repeats,
        },
    }
    print(json.dumps(result))
    return result
