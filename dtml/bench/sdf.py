"""Benchmark: the normalised SDF target (``dtml.sdf.normalized_signed_distance``) vs a reference.

The reference is written the way the authors' code computes the target: per item, two Euclidean
distance transforms (foreground and background), min-max scaling of each in float64, and
``skimage.segmentation.find_boundaries(mode="inner")`` to zero the boundary. Both must agree.
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


def _best_time(fn: Callable[[], np.ndarray], repeats: int) -> tuple[float, np.ndarray]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


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
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--shape", type=_shape, default=(64, 64, 48), help="e.g. 64,64,48")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args([] if argv is None else argv)
    if args.batch < 1 or args.repeats < 1:
        raise ValueError("dtml.bench.sdf: --batch and --repeats must be >= 1")

    masks = random_blobs(args.batch, args.shape, args.seed)
    ours_s, ours = _best_time(lambda: normalized_signed_distance(masks), args.repeats)
    reference_s, reference = _best_time(lambda: reference_normalized_sdf(masks), args.repeats)
    result = {
        "bench": "sdf",
        "ours_s": ours_s,
        "reference_s": reference_s,
        "ratio": round(reference_s / ours_s, 3),
        "config": {
            "batch": args.batch,
            "shape": list(args.shape),
            "repeats": args.repeats,
            "seed": args.seed,
            "timing": "best of repeats, seconds per batch",
            "foreground_fraction": round(float(masks.mean()), 4),
        },
        "equal": bool(np.allclose(ours, reference, atol=1e-6)),
    }
    print(json.dumps(result))
    return result
