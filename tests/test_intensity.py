import numpy as np
import pytest

from dtml.data.case import Case
from dtml.data.intensity import (
    best_threshold_dice,
    intensity_stats,
    normalize_case,
    normalize_image,
)


@pytest.mark.parametrize("scale", [0.31, 1.0, 1.66, 250.0])
@pytest.mark.parametrize("shift", [-3.0, 0.0, 0.7])
def test_volume_input_is_invariant_to_intensity_scale_and_shift(scale, shift):
    """Issue: a scan's stored intensity scale must not decide its `volume` input."""
    image = np.random.default_rng(1).normal(0.2, 0.9, (12, 10, 8)).astype(np.float32)
    ref = normalize_image(image, "volume")
    out = normalize_image((image * scale + shift).astype(np.float32), "volume")
    np.testing.assert_allclose(out, ref, atol=2e-5)
    assert abs(float(ref.mean())) < 1e-5 and abs(float(ref.std()) - 1) < 1e-5
    assert out.dtype == np.float32


def test_stored_is_the_release_as_is():
    image = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    assert normalize_image(image, "stored") is image


def test_constant_volume_and_unknown_mode_raise_naming_the_case():
    case = Case("CASE7", np.ones((4, 4, 4), np.float32), None)
    with pytest.raises(ValueError, match="CASE7"):
        normalize_case(case, "volume")
    with pytest.raises(ValueError, match="normalization"):
        normalize_image(case.image, "minmax")


def test_labels_are_untouched():
    label = np.zeros((4, 4, 4), np.uint8)
    label[1:3] = 1
    case = Case("c", np.random.default_rng(0).normal(size=(4, 4, 4)).astype(np.float32), label)
    assert normalize_case(case, "volume").label is label


def _brute_force_threshold_dice(image, label) -> float:
    fg = label.astype(bool)
    values = np.unique(image)
    cuts = np.append(values[0] - 1, values)  # "image > t" for t below all and at each value
    return max(2 * np.sum((image > t) & fg) / (np.sum(image > t) + fg.sum()) for t in cuts)


@pytest.mark.parametrize("seed", range(4))
def test_best_threshold_dice_is_the_best_of_every_threshold(seed):
    rng = np.random.default_rng(seed)
    label = rng.random((6, 5, 4)) < 0.3
    image = np.round(rng.normal(size=label.shape) + 1.2 * label, 1)  # rounded: ties between voxels
    assert best_threshold_dice(image, label) == pytest.approx(
        _brute_force_threshold_dice(image, label)
    )


@pytest.mark.filterwarnings("error::RuntimeWarning")  # an empty label used to warn first
def test_best_threshold_dice_bounds():
    label = np.zeros((4, 4, 4), bool)
    label[:2] = True
    assert best_threshold_dice(label * 3.0 - 1, label) == 1.0  # separable by intensity
    assert best_threshold_dice(np.ones((4, 4, 4)), label) == pytest.approx(2 * 32 / (64 + 32))
    with pytest.raises(ValueError, match="no foreground"):
        best_threshold_dice(np.ones((4, 4, 4)), np.zeros((4, 4, 4)))
    with pytest.raises(ValueError, match="NaN"):
        best_threshold_dice(np.where(label, np.nan, 0.0), label)
    with pytest.raises(ValueError, match="differs from label shape"):
        best_threshold_dice(np.ones((4, 4, 2, 2)), label.reshape(4, 2, 4, 2))
    with pytest.raises(ValueError, match="case 'EMPTY': the label has no foreground"):
        intensity_stats(
            Case("EMPTY", np.ones((4, 4, 4), np.float32), np.zeros((4, 4, 4), np.uint8))
        )
    with pytest.raises(ValueError, match="case 'FULL': the label has no background"):
        intensity_stats(Case("FULL", np.ones((4, 4, 4), np.float32), np.ones((4, 4, 4), np.uint8)))
    case = Case("c", (label * 2.0).astype(np.float32), label.astype(np.uint8))
    stats = intensity_stats(case)
    assert stats["threshold_dice"] == 1.0
    assert stats["contrast"] == np.inf  # a constant background, without a divide warning
    assert "threshold_dice" not in intensity_stats(Case("c", case.image, None))
