import numpy as np
import pytest

from dtml.data.cache import load_case, resample
from dtml.data.case import Case
from dtml.data.la import write_case


def test_resampling_keeps_labels_binary_and_scales_spacing():
    rng = np.random.default_rng(0)
    label = (rng.random((20, 16, 12)) > 0.7).astype(np.uint8)
    case = resample(Case("c", rng.normal(size=label.shape).astype(np.float32), label), 0.5)
    assert case.image.shape == case.label.shape == (10, 8, 6)
    assert set(np.unique(case.label).tolist()) <= {0, 1}
    # corner-aligned zoom: spacing * (n - 1) / (m - 1)
    assert case.spacing == pytest.approx((0.625 * 19 / 9, 0.625 * 15 / 7, 0.625 * 11 / 5))
    with pytest.raises(ValueError, match="grid"):
        resample(case, 1.5)


def test_cache_returns_the_same_case_and_follows_file_changes(tmp_path):
    rng = np.random.default_rng(0)
    label = np.zeros((12, 12, 8), np.uint8)
    label[3:8, 3:8, 2:6] = 1
    write_case(tmp_path / "d", "c1", rng.normal(size=label.shape), label)
    cache = tmp_path / "cache"
    first = load_case(tmp_path / "d", "c1", 0.5, cache)
    again = load_case(tmp_path / "d", "c1", 0.5, cache)
    assert np.array_equal(first.image, again.image) and np.array_equal(first.label, again.label)
    unlabeled = load_case(tmp_path / "d", "c1", 0.5, cache, with_label=False)
    assert unlabeled.label is None and np.array_equal(unlabeled.image, first.image)
    write_case(tmp_path / "d", "c1", np.zeros(label.shape), label)  # new content, new key
    assert load_case(tmp_path / "d", "c1", 0.5, cache).image.std() == 0
