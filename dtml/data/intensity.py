"""Input intensity normalisation (the ``normalization`` config field).

The preprocessed LA release z-scores each MRI over the whole volume and only then crops it around
the atrium, so the stored crops do not have unit scale (their std runs from 0.31 to 1.66 over the
100 scans). ``stored`` feeds the release as it is (the authors' code); ``volume`` re-z-scores each
loaded volume over its stored crop, in training and inference alike, so that a scan's intensity
scale cannot decide its prediction.
"""

from __future__ import annotations

import numpy as np

from dtml.data.case import Case


def normalize_image(image: np.ndarray, mode: str) -> np.ndarray:
    """``stored``: unchanged; ``volume``: (image - mean) / std over the whole array (float32)."""
    if mode == "stored":
        return image
    if mode != "volume":
        raise ValueError(f"normalization must be 'stored' or 'volume', got '{mode}'")
    x = image.astype(np.float64)
    std = x.std()
    if not std > 0:
        raise ValueError("cannot z-score a constant volume (std 0)")
    return ((x - x.mean()) / std).astype(np.float32)


def normalize_case(case: Case, mode: str) -> Case:
    if mode == "stored":
        return case
    try:
        image = normalize_image(case.image, mode)
    except ValueError as e:
        raise ValueError(f"case '{case.case_id}': {e}") from None
    return Case(case.case_id, image, case.label, case.spacing)


def best_threshold_dice(image: np.ndarray, label: np.ndarray) -> float:
    """Dice of the best global threshold ``image > t``, chosen knowing ``label``: what intensity
    alone can segment. Exact: every threshold between two distinct intensities is tried."""
    if np.shape(image) != np.shape(label):
        raise ValueError(
            f"image shape {np.shape(image)} differs from label shape {np.shape(label)}"
        )
    x = np.asarray(image).ravel()
    fg = np.asarray(label).ravel().astype(bool)
    if not np.isfinite(x).all():
        raise ValueError("the image holds NaN or infinite values")
    if not fg.any():
        raise ValueError("the label has no foreground: no Dice to maximise")
    order = np.argsort(-x, kind="stable")
    brightest = x[order]
    true_pos = np.cumsum(fg[order])  # foreground among the k brightest voxels
    kept = np.arange(1, x.size + 1)
    cut = np.append(brightest[1:] < brightest[:-1], True)  # a threshold can fall only here
    return float(np.max(2 * true_pos[cut] / (kept[cut] + fg.sum())))


def intensity_stats(case: Case) -> dict[str, float]:
    """The stored intensity scale of a case: mean and std over its crop and, with a label, the
    foreground/background contrast (difference of means over the background std) and the best
    global-threshold Dice (:func:`best_threshold_dice`)."""
    image = case.image.astype(np.float64)
    out = {"mean": float(image.mean()), "std": float(image.std())}
    if case.label is not None:
        fg = case.label.astype(bool)
        try:
            dice = best_threshold_dice(case.image, fg)  # first: it names an empty label
        except ValueError as e:
            raise ValueError(f"case '{case.case_id}': {e}") from None
        if fg.all():
            raise ValueError(f"case '{case.case_id}': the label has no background: no contrast")
        bg = image[~fg]
        with np.errstate(divide="ignore"):  # a constant background: ±inf (0/0 still warns)
            contrast = (image[fg].mean() - bg.mean()) / bg.std()
        out.update(contrast=float(contrast), threshold_dice=dice)
    return out
