"""Benchmark: the normalised SDF target (``dtml.sdf.normalized_signed_distance``) vs a reference.

The reference is written the way the authors' code computes the target: per item, two Euclidean
distance transforms (foreground and background), min-max scaling of each in float64, and
``skimage.segmentation.find_boundaries(mode="inner")`` to zero the boundary. Ours takes one
multi-label pass of the ``edt`` package for both sides and a table of the distinct values (see
``dtml.sdf``). Both must agree bit for bit (``equal``: float32 of the reference == ours), and to
1e-6 in float64 (``close``). The two alternate within each repeat, so machine load hits both alike;
``ratio_cpu`` compares process CPU time, steadier than wall time on a shared machine (with one
thread, ``--threads 1``, it is the wall time of an idle machine).

The masks are random blobs by default (many components: the EDT's hardest case of the two). With
``--data DIR`` they are what training feeds the target instead: augmented crops (rot/flip, random
crop, as ``dtml.data.augment``) of the LA labels of the first ``--batch`` scans of train.list (the
``paper`` split's labeled scans), resampled to ``--grid``.

Prints one JSON line; ``python -m dtml.bench sdf --help`` lists the options.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import numpy as np
from scipy import ndimage
from skimage.segmentation import find_boundaries

from dtml.data.augment import augment
from dtml.data.cache import load_case
from dtml.data.fingerprint import fingerprint
from dtml.data.la import read_list
from dtml.sdf import normalized_signed_distance


def reference_normalized_sdf(masks: np.ndarray) -> np.ndarray:
    """The authors' recipe, item by item, in float64 (independent of ``dtml.sdf``)."""
    out = np.zeros(masks.shape, dtype=np.float64)
    for b, item in enumerate(masks):
        positive = item.astype(bool)
        if not positive.any():
            continue
        negative = ~positive
        pos_dist = ndimage.distance_transform_edt(positive)
        neg_dist = ndimage.distance_transform_edt(negative)
        boundary = find_boundaries(positive, mode="inner").astype(np.uint8)
        sdf = (neg_dist - neg_dist.min()) / (neg_dist.max() - neg_dist.min()) - (
            pos_dist - pos_dist.min()
        ) / (pos_dist.max() - pos_dist.min())
        sdf[boundary == 1] = 0
        out[b] = sdf
    return out


def random_blobs(batch: int, shape: tuple[int, ...], seed: int) -> np.ndarray:
    """``batch`` smooth random blobs (thresholded Gaussian-filtered noise), uint8 like labels."""
    rng = np.random.default_rng(seed)
    masks = []
    for _ in range(batch):
        field = ndimage.gaussian_filter(rng.random(shape), sigma=4.0)
        masks.append(field > np.quantile(field, 0.7))
    return np.stack(masks).astype(np.uint8)


def _best_times(
    fns: dict[str, Callable[[], np.ndarray]], repeats: int
) -> tuple[dict[str, float], dict[str, float], list[float]]:
    """Best-of-``repeats`` wall and process-CPU seconds of each function, the functions alternating
    within a repeat, and each repeat's ratio of CPU times (first function / second: one pair
    measured back to back, under the same load). On a shared machine a process waits for a core
    between time slices: its CPU time does not count the wait (for one thread it is the wall time an
    idle machine would show), but cache and frequency sharing still move it; the median of the
    paired ratios is the figure least moved by a neighbour's burst."""
    wall = dict.fromkeys(fns, float("inf"))
    cpu = dict.fromkeys(fns, float("inf"))
    pairs: list[float] = []
    for _ in range(repeats):
        this: dict[str, float] = {}
        for name, fn in fns.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            this[name] = time.process_time() - start_cpu
            cpu[name] = min(cpu[name], this[name])
            wall[name] = min(wall[name], time.perf_counter() - start)
        first, second = this.values()
        pairs.append(second / first if first > 0 else float("inf"))
    return wall, cpu, pairs


def label_crops(
    root: str, batch: int, shape: tuple[int, ...], grid: float, seed: int
) -> np.ndarray:
    """One training crop (``dtml.data.augment``) of each of the first ``batch`` train.list labels."""
    ids = read_list(root)
    if batch > len(ids) or len(shape) != 3:
        raise ValueError(
            f"dtml.bench.sdf: --data needs a 3D --shape and --batch <= {len(ids)} (train.list of "
            f"{root}), got --batch {batch} --shape {shape}"
        )
    rng = np.random.default_rng(seed)
    crops = []
    for case_id in ids[:batch]:
        label = load_case(root, case_id, grid).label
        crops.append(augment(label, label, shape, rng)[1])
    return np.stack(crops).astype(np.uint8)


def _shape(text: str) -> tuple[int, ...]:
    shape = tuple(int(v) for v in text.split(","))
    if len(shape) not in (2, 3) or min(shape) < 2:
        raise argparse.ArgumentTypeError(f"--shape must be 2 or 3 sizes >= 2, got {text!r}")
    return shape


def run(argv: list[str] | None = None) -> dict:
    """Time both implementations (best of ``--repeats``), check they agree, print one JSON line.

    ``argv`` holds the options only (``None``: all defaults, ``sys.argv`` is never read).
    """
    parser = argparse.ArgumentParser(prog="python -m dtml.bench sdf", description=__doc__)
    parser.add_argument("--batch", type=int, default=2, help="crops per batch (training: 2)")
    parser.add_argument("--shape", type=_shape, default=(64, 64, 48), help="e.g. 64,64,48")
    parser.add_argument(
        "--repeats", type=int, default=20, help="timed repeats (best and median ratio kept)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the blobs or the crops")
    parser.add_argument(
        "--data", default=None, help="LA data folder: crops of its labels instead of random blobs"
    )
    parser.add_argument(
        "--grid", type=float, default=1.0, help="with --data: grid (1.0 full, 0.5 the cpu profile)"
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="EDT threads of ours (the reference uses one)"
    )
    args = parser.parse_args([] if argv is None else argv)
    if min(args.batch, args.repeats, args.threads) < 1:
        raise ValueError("dtml.bench.sdf: --batch, --repeats and --threads must be >= 1")

    if args.data is None:
        masks = random_blobs(args.batch, args.shape, args.seed)
    else:
        masks = label_crops(args.data, args.batch, args.shape, args.grid, args.seed)
    ours = normalized_signed_distance(masks, threads=args.threads)
    reference = reference_normalized_sdf(masks)
    best, cpu, pairs = _best_times(
        {
            "ours": lambda: normalized_signed_distance(masks, threads=args.threads),
            "reference": lambda: reference_normalized_sdf(masks),
        },
        args.repeats,
    )
    result = {
        "bench": "sdf",
        "ours_s": best["ours"],
        "reference_s": best["reference"],
        "ratio": round(best["reference"] / best["ours"], 3),
        "ours_cpu_s": cpu["ours"],
        "reference_cpu_s": cpu["reference"],
        "ratio_cpu": round(cpu["reference"] / cpu["ours"], 3),
        "ratio_cpu_median": round(float(np.median(pairs)), 3),
        "ratio_cpu_p10_p90": [round(float(v), 3) for v in np.percentile(pairs, [10, 90])],
        "config": {
            "batch": args.batch,
            "shape": list(args.shape),
            "repeats": args.repeats,
            "seed": args.seed,
            "threads": args.threads,
            "masks": "random blobs" if args.data is None else f"LA label crops, grid {args.grid:g}",
            "data": None if args.data is None else fingerprint(args.data),
            "timing": "best of repeats, seconds per batch (wall; cpu: process time), alternating; "
            "ratio_cpu_median: median over repeats of paired CPU-time ratios",
            "foreground_fraction": round(float(masks.mean()), 4),
        },
        "equal": bool(np.array_equal(ours, reference.astype(np.float32))),
        "close": bool(np.allclose(ours, reference, rtol=0, atol=1e-6)),
    }
    print(json.dumps(result))
    return result
