"""Per-case segmentation metrics (the four columns of the paper's Table 3) and their summaries.

Definitions follow ``medpy.metric.binary`` exactly, because the official evaluation calls
``dc``, ``jc``, ``hd95`` and ``asd`` from it:

* Dice ``2|P & G| / (|P| + |G|)`` and Jaccard ``|P & G| / |P | G|``, as fractions in [0, 1]
  (tables multiply by 100).
* Surfaces are the voxels removed by one binary erosion with a 6-connected (face) structuring
  element; the distance of a surface voxel to the other surface is a Euclidean distance transform.
* ``hd95``: the 95th percentile of the pooled distances in BOTH directions (P->G and G->P).
* ``asd``: the DIRECTED average surface distance, mean over P's surface of the distance to G's
  surface (medpy's ``asd``; NOT the symmetric ``assd``). The official code reports this one.

Distances are in voxels by default (as the official code reports them) and in millimetres when
``spacing`` is given (medpy's ``voxelspacing``).

medpy raises on an empty prediction or reference; here those cases get a defined value:

* both empty: dice = jaccard = 1, asd = hd95 = 0 (a perfect answer to "nothing there");
* exactly one empty: dice = jaccard = 0 and asd = hd95 = the volume's diagonal
  ``sqrt(sum(((n_i - 1) * s_i)^2))``, the largest distance two voxels of the volume can have
  (so a worst-case but finite value that can still be averaged).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage, stats

METRIC_NAMES: tuple[str, ...] = ("dice", "jaccard", "asd", "hd95")


@dataclass(frozen=True)
class CaseMetrics:
    """Metrics of one case: Dice/Jaccard as fractions, asd/hd95 in voxels or mm."""

    dice: float
    jaccard: float
    asd: float
    hd95: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _as_binary(array: np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(array)
    if array.dtype == np.bool_:
        return array
    if array.size and not np.isin(array, (0, 1)).all():
        raise ValueError(f"metrics: `{name}` must be binary (values 0/1 or bool)")
    return array.astype(bool)


def _spacing(spacing: Sequence[float] | None, ndim: int) -> np.ndarray:
    if spacing is None:
        return np.ones(ndim)
    values = np.asarray(spacing, dtype=np.float64).reshape(-1)
    if values.size != ndim or not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise ValueError(
            f"metrics: `spacing` must hold {ndim} positive finite numbers, got {spacing!r}"
        )
    return values


def volume_diagonal(shape: Sequence[int], spacing: Sequence[float] | None = None) -> float:
    """Largest distance between two voxel centres of a volume: the one-empty-mask distance."""
    sp = _spacing(spacing, len(shape))
    return float(np.sqrt(np.sum(((np.asarray(shape) - 1) * sp) ** 2)))


def _surface(mask: np.ndarray) -> np.ndarray:
    # medpy's border: the voxels a face-connected (connectivity=1) erosion removes; voxels
    # outside the array count as background, so objects touching the edge have a surface there.
    footprint = ndimage.generate_binary_structure(mask.ndim, 1)
    return mask ^ ndimage.binary_erosion(mask, structure=footprint, iterations=1)


def _directed_surface_distances(
    source: np.ndarray, target: np.ndarray, spacing: np.ndarray
) -> np.ndarray:
    """Distance of every surface voxel of ``source`` to the nearest surface voxel of ``target``."""
    dt = ndimage.distance_transform_edt(~_surface(target), sampling=spacing)
    return dt[_surface(source)]


def _crop_to_objects(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # The distance transform only needs the union's bounding box plus one background voxel
    # (so the erosion sees the same neighbourhood); distances between voxels inside it are
    # unchanged, and the crop makes a large, mostly empty volume several times cheaper.
    coords = np.nonzero(pred | gt)
    box = tuple(
        slice(max(int(c.min()) - 1, 0), min(int(c.max()) + 2, n))
        for c, n in zip(coords, pred.shape, strict=True)
    )
    return pred[box], gt[box]


def case_metrics(
    pred: np.ndarray, gt: np.ndarray, spacing: Sequence[float] | None = None
) -> CaseMetrics:
    """Dice, Jaccard, directed ASD and HD95 of one binary prediction against its reference.

    ``pred`` and ``gt`` are binary arrays of the same shape (bool or 0/1). Distances are in voxels,
    or in mm when ``spacing`` (one value per axis) is given. Empty masks follow the module's
    convention (both empty: perfect; one empty: Dice 0 and the volume diagonal as distance).
    """
    p = _as_binary(pred, "pred")
    g = _as_binary(gt, "gt")
    if p.shape != g.shape:
        raise ValueError(f"metrics: `pred` shape {p.shape} != `gt` shape {g.shape}")
    if p.ndim == 0:
        raise ValueError("metrics: `pred` and `gt` must have at least one axis")
    sp = _spacing(spacing, p.ndim)
    n_p, n_g = int(np.count_nonzero(p)), int(np.count_nonzero(g))
    if n_p == 0 and n_g == 0:
        return CaseMetrics(dice=1.0, jaccard=1.0, asd=0.0, hd95=0.0)
    if n_p == 0 or n_g == 0:
        worst = volume_diagonal(p.shape, sp)
        return CaseMetrics(dice=0.0, jaccard=0.0, asd=worst, hd95=worst)

    inter = int(np.count_nonzero(p & g))
    dice = 2.0 * inter / (n_p + n_g)
    jaccard = inter / (n_p + n_g - inter)
    p_c, g_c = _crop_to_objects(p, g)
    d_pg = _directed_surface_distances(p_c, g_c, sp)
    d_gp = _directed_surface_distances(g_c, p_c, sp)
    hd95 = float(np.percentile(np.concatenate([d_pg, d_gp]), 95))
    return CaseMetrics(dice=dice, jaccard=jaccard, asd=float(d_pg.mean()), hd95=hd95)


def summarize(rows: Sequence[CaseMetrics | Mapping[str, float]]) -> dict:
    """Mean and standard deviation of each metric over cases.

    Returns ``{"n": n, "dice": {"mean": ..., "std": ...}, "jaccard": ..., "asd": ..., "hd95": ...}``.
    The std is the sample standard deviation (ddof=1) for n > 1 and 0.0 for a single case. The
    paper reports only the plain mean over the 20 test cases.
    """
    if len(rows) == 0:
        raise ValueError("summarize: `rows` is empty")
    table = []
    for i, row in enumerate(rows):
        values = row.as_dict() if isinstance(row, CaseMetrics) else row
        missing = [m for m in METRIC_NAMES if m not in values]
        if missing:
            raise ValueError(f"summarize: row {i} lacks {missing}")
        table.append([float(values[m]) for m in METRIC_NAMES])
    data = np.asarray(table)
    n = data.shape[0]
    std = data.std(axis=0, ddof=1) if n > 1 else np.zeros(len(METRIC_NAMES))
    out: dict = {"n": n}
    for j, name in enumerate(METRIC_NAMES):
        out[name] = {"mean": float(data[:, j].mean()), "std": float(std[j])}
    return out


def paired_ttest(a: Sequence[float], b: Sequence[float]) -> dict:
    """Two-sided paired t-test of per-case scores of two methods on the same cases.

    Returns ``{"t", "p", "p_wilcoxon", "mean_diff", "median_diff", "n_higher", "n"}`` with
    ``mean_diff = mean(a - b)``, ``median_diff = median(a - b)`` and ``n_higher`` the cases where
    a > b: a mean carried by a few cases shows as a median near 0 (``scipy.stats.ttest_rel``: t
    and p are NaN when every difference is zero, and t is infinite when all differences are equal
    but not zero). ``p_wilcoxon``: the two-sided Wilcoxon signed-rank test of the same pairs
    (``scipy.stats.wilcoxon``, zero differences dropped; NaN when all are zero), a check that does
    not assume normal differences: per-scan Dice gains are heavy-tailed (a few scans gain tens of
    points), which costs the t-test its power.
    """
    x = np.asarray(a, dtype=np.float64).reshape(-1)
    y = np.asarray(b, dtype=np.float64).reshape(-1)
    if x.size != y.size:
        raise ValueError(f"paired_ttest: `a` has {x.size} values but `b` has {y.size}")
    if x.size < 2:
        raise ValueError(f"paired_ttest: needs at least 2 paired values, got {x.size}")
    res = stats.ttest_rel(x, y, alternative="two-sided")
    return {
        "t": float(res.statistic),
        "p": float(res.pvalue),
        "p_wilcoxon": _wilcoxon_p(x, y),
        "mean_diff": float(np.mean(x - y)),
        "median_diff": float(np.median(x - y)),
        "n_higher": int(np.sum(x > y)),
        "n": int(x.size),
    }


def _wilcoxon_p(x: np.ndarray, y: np.ndarray) -> float:
    if np.all(x == y):
        return float("nan")
    # degenerate ranks (e.g. every difference equal) make scipy warn while it computes a z it
    # does not use for the exact p
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(stats.wilcoxon(x, y, alternative="two-sided").pvalue)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (Holm 1979), in the input order.

    For m tests read together, the i-th smallest p is multiplied by ``m - i`` (i from 0), made
    non-decreasing in that order and capped at 1; an adjusted p below alpha bounds the chance of
    any false "significant" among the m by alpha.
    """
    p = np.asarray(pvalues, dtype=np.float64).reshape(-1)
    if np.any(~np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError(f"holm: p-values must lie in [0, 1], got {p.tolist()}")
    order = np.argsort(p, kind="stable")
    scaled = np.maximum.accumulate(p[order] * (p.size - np.arange(p.size)))
    out = np.empty_like(p)
    out[order] = np.minimum(scaled, 1.0)
    return out.tolist()
