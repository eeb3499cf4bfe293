"""Benchmark: batched sliding-window inference (``dtml.infer``) against the official-style loop.

The reference below is written the way the authors' test script works: one window at a time,
each window through the network twice (their script calls M_s twice and keeps one output),
probabilities summed into a float64 score map and divided by a count map. Both paths must give
IDENTICAL label maps after thresholding at 0.5; the benchmark fails otherwise (in float32; with
``--bf16`` the agreement is reported, not asserted, since bf16 changes the probabilities).

Run: ``python -m dtml.bench.inference [--filters 8 --shape 96,80,48 ...]``; prints one JSON line.
``ratio`` = reference_s / ours_s (> 1: the batched path is faster).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from dtml.infer import postprocess, predict_case, window_grid
from dtml.nets import VNet


def sliding_window_reference(
    image: np.ndarray,
    net: nn.Module,
    patch: Sequence[int] = (112, 112, 80),
    stride: Sequence[int] = (18, 18, 4),
) -> np.ndarray:
    """Foreground probabilities computed like the official test: per window, the net called twice.

    Independent of ``dtml.infer`` on purpose (own padding and window loop), so that agreement
    checks the window layout too. Uses M_s's logits head; returns float32 of ``image.shape``.
    The caller sets the mode (the official script calls ``net.eval()`` first).
    """
    device = next(net.parameters()).device
    px, py, pz = (int(v) for v in patch)
    step_x, step_y, step_z = (int(v) for v in stride)
    w, h, d = image.shape
    pads = [max(p - n, 0) for n, p in zip((w, h, d), (px, py, pz), strict=True)]
    before = [p // 2 for p in pads]
    padded = np.pad(
        image.astype(np.float32), [(b, p - b) for b, p in zip(before, pads, strict=True)]
    )
    ww, hh, dd = padded.shape
    nx = math.ceil((ww - px) / step_x) + 1
    ny = math.ceil((hh - py) / step_y) + 1
    nz = math.ceil((dd - pz) / step_z) + 1
    score = np.zeros(padded.shape, dtype=np.float64)
    count = np.zeros(padded.shape, dtype=np.float64)
    with torch.no_grad():
        for ix in range(nx):
            xs = min(step_x * ix, ww - px)
            for iy in range(ny):
                ys = min(step_y * iy, hh - py)
                for iz in range(nz):
                    zs = min(step_z * iz, dd - pz)
                    window = padded[xs : xs + px, ys : ys + py, zs : zs + pz]
                    x = torch.from_numpy(np.ascontiguousarray(window))[None, None].to(device)
                    net(x)  # the official script's first call, whose output it does not use
                    logits = net(x)[0]
                    prob = torch.sigmoid(logits)[0, 0].cpu().numpy()
                    score[xs : xs + px, ys : ys + py, zs : zs + pz] += prob
                    count[xs : xs + px, ys : ys + py, zs : zs + pz] += 1
    prob = (score / count).astype(np.float32)
    return prob[before[0] : before[0] + w, before[1] : before[1] + h, before[2] : before[2] + d]


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError as err:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from err


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dtml.bench.inference", description=__doc__.split("\n")[0])
    p.add_argument("--filters", type=int, default=8, help="V-Net base filters (paper: 16)")
    p.add_argument("--shape", type=_ints, default=(96, 80, 48), help="volume x,y,z")
    p.add_argument("--patch", type=_ints, default=(64, 64, 48), help="window (paper: 112,112,80)")
    p.add_argument("--stride", type=_ints, default=(16, 16, 8), help="stride (paper: 18,18,4)")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--repeats", type=int, default=3, help="timed runs; the minimum is reported")
    p.add_argument("--bf16", action="store_true", help="bfloat16 autocast for the batched path")
    p.add_argument("--device", default=None, help="default: cuda if available, else cpu")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: leave as is)")
    p.add_argument("--seed", type=int, default=0)
    return p


def _phantom(shape: Sequence[int], seed: int) -> np.ndarray:
    # A bright ellipsoid in noise, z-scored like the LA images; content does not matter much for
    # a random network but keeps the input in the range the network sees in practice.
    rng = np.random.default_rng(seed)
    grid = np.indices(shape, dtype=np.float32)
    centre = np.array(shape, dtype=np.float32)[:, None, None, None] / 2
    radii = np.array(shape, dtype=np.float32)[:, None, None, None] / 4
    inside = (((grid - centre) / radii) ** 2).sum(0) <= 1
    image = inside.astype(np.float32) + 0.3 * rng.standard_normal(shape).astype(np.float32)
    return (image - image.mean()) / image.std()


def _best_time(fn: Callable[[], np.ndarray], repeats: int, sync: Callable[[], None]) -> tuple:
    times, out = [], None
    for _ in range(repeats):
        sync()
        t0 = time.perf_counter()
        out = fn()
        sync()
        times.append(time.perf_counter() - t0)
    return min(times), out


def run(argv: list[str] | None = None) -> dict:
    """Time batched ``predict_case(mode="seg")`` against the reference; print and return a dict."""
    args = _parser().parse_args(argv)
    for name in ("shape", "patch", "stride"):
        if len(getattr(args, name)) != 3:
            raise ValueError(f"bench inference: --{name} needs 3 integers")
    if args.repeats < 1 or args.batch_size < 1:
        raise ValueError("bench inference: --repeats and --batch-size must be >= 1")
    threads_before = torch.get_num_threads()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    try:
        return _measure(args)
    finally:
        torch.set_num_threads(threads_before)  # leave the caller's process as it was


def _measure(args: argparse.Namespace) -> dict:
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    torch.manual_seed(args.seed)
    net = VNet(in_channels=1, base_filters=args.filters).to(device).eval()
    image = _phantom(args.shape, args.seed)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    autocast = torch.bfloat16 if args.bf16 else None

    def ours() -> np.ndarray:
        return predict_case(
            image,
            seg_net=net,
            mode="seg",
            patch=args.patch,
            stride=args.stride,
            batch_size=args.batch_size,
            device=device,
            autocast_dtype=autocast,
        )

    def reference() -> np.ndarray:
        return sliding_window_reference(image, net, args.patch, args.stride)

    with torch.no_grad():  # warm-up: first calls per batch shape allocate and pick kernels
        for n in sorted({1, args.batch_size}):
            net(torch.zeros((n, 1, *args.patch), device=device))
    ours_s, p_ours = _best_time(ours, args.repeats, sync)
    ref_s, p_ref = _best_time(reference, args.repeats, sync)
    labels_ours = postprocess(p_ours, lcc=False)
    labels_ref = postprocess(p_ref, lcc=False)
    identical = bool(np.array_equal(labels_ours, labels_ref))
    result = {
        "bench": "inference",
        "ours_s": round(ours_s, 4),
        "reference_s": round(ref_s, 4),
        "ratio": round(ref_s / ours_s, 3),
        "identical": identical,
        "agreement": float(np.mean(labels_ours == labels_ref)),
        "max_abs_prob_diff": float(np.max(np.abs(p_ours - p_ref))),
        "windows": len(window_grid(args.shape, args.patch, args.stride)),
        "config": {
            "filters": args.filters,
            "shape": list(args.shape),
            "patch": list(args.patch),
            "stride": list(args.stride),
            "batch_size": args.batch_size,
            "repeats": args.repeats,
            "bf16": args.bf16,
            "device": str(device),
            "threads": torch.get_num_threads(),
        },
    }
    print(json.dumps(result))
    if not args.bf16 and not identical:
        raise AssertionError(
            f"bench inference: label maps differ in {int((labels_ours != labels_ref).sum())} voxels"
        )
    return result


if __name__ == "__main__":
    run()
