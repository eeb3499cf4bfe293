"""The embedded LA-like phantom: determinism, realism bounds, hardness and the h5 round trip."""

import json

import numpy as np
import pytest
from scipy import ndimage

from dtml.data.intensity import best_threshold_dice
from dtml.data.la import read_case, read_list
from dtml.data.phantom import (
    GENERATOR_VERSION,
    atrium_mask,
    case_id,
    case_seed,
    dataset_is_current,
    generate_case,
    write_phantom_dataset,
)

SHAPE = (32, 32, 24)


def _best_threshold_dice(images, labels) -> float:
    """Dice of the best single global intensity threshold over the pooled cases."""
    pooled = np.concatenate([i.ravel() for i in images])
    return best_threshold_dice(pooled, np.concatenate([lb.ravel() for lb in labels]))


def test_same_seed_same_case_other_seed_other_case():
    a_img, a_lab = generate_case(7, SHAPE)
    b_img, b_lab = generate_case(7, SHAPE)
    c_img, c_lab = generate_case(8, SHAPE)
    np.testing.assert_array_equal(a_img, b_img)
    np.testing.assert_array_equal(a_lab, b_lab)
    assert not np.array_equal(a_lab, c_lab)
    assert not np.allclose(a_img, c_img)


def test_shapes_dtypes_and_binary_nonempty_label():
    image, label = generate_case(0, SHAPE)
    assert image.shape == label.shape == SHAPE
    assert image.dtype == np.float32 and label.dtype == np.uint8
    assert set(np.unique(label).tolist()) == {0, 1}


def test_atrium_mask_is_the_label_of_generate_case():
    for seed in (0, 3):
        for difficulty in (0.0, 1.0):
            mask = atrium_mask(SHAPE, seed, difficulty)
            _, label = generate_case(seed, SHAPE, difficulty)
            assert mask.dtype == bool
            np.testing.assert_array_equal(mask, label.astype(bool))


@pytest.mark.parametrize("seed", range(6))
def test_foreground_fraction_realistic_and_one_component(seed):
    # Real LA crops hold 6-10 % atrium; the phantom's wider field of view gives a few % less.
    label = generate_case(seed, SHAPE)[1]
    assert 0.03 < label.mean() < 0.12
    _, n = ndimage.label(label)  # 6-connectivity: the strictest notion of "one piece"
    assert n == 1


def test_target_is_not_centred_on_a_single_position():
    centres = np.array([np.argwhere(atrium_mask(SHAPE, s)).mean(0) for s in range(6)])
    assert np.all(centres.std(axis=0) > 0.3)


def test_image_is_z_scored_and_finite():
    image, label = generate_case(1, SHAPE)
    assert np.isfinite(image).all()
    assert abs(float(image.mean())) < 1e-4
    assert abs(float(image.std()) - 1.0) < 1e-4
    # The atrium is a bright blood pool, as in LGE-MRI (real crops: foreground mean 1.3-3.7).
    assert image[label == 1].mean() > image[label == 0].mean() + 0.8


def test_global_threshold_fails_at_default_difficulty_but_not_at_zero():
    seeds = range(3)
    hard = [generate_case(s, (48, 48, 32)) for s in seeds]
    easy = [generate_case(s, (48, 48, 32), difficulty=0.0) for s in seeds]
    assert _best_threshold_dice(*zip(*hard, strict=True)) < 0.8
    # The same measure succeeds on the easy setting, so the bound above is a real property.
    assert _best_threshold_dice(*zip(*easy, strict=True)) > 0.85


@pytest.mark.parametrize("shape", [(32, 32), (4, 32, 24), (32, 32, 24, 2)])
def test_bad_shape_is_rejected(shape):
    with pytest.raises(ValueError, match="shape"):
        generate_case(0, shape)


@pytest.mark.parametrize("difficulty", [-0.1, float("nan")])
def test_bad_difficulty_is_rejected(difficulty):
    with pytest.raises(ValueError, match="difficulty"):
        atrium_mask(SHAPE, 0, difficulty)


def test_dataset_round_trip_through_the_h5_layout(tmp_path):
    shape = (24, 24, 16)
    root = write_phantom_dataset(tmp_path / "ph", n_train=3, n_test=2, seed=5, shape=shape)
    train, test = read_list(root, "train.list"), read_list(root, "test.list")
    assert train == [case_id(i) for i in range(3)] == ["phantom_000", "phantom_001", "phantom_002"]
    assert test == ["phantom_003", "phantom_004"]
    meta = json.loads((root / "phantom.json").read_text())
    assert meta["shape"] == list(shape) and meta["seed"] == 5 and meta["difficulty"] == 1.0
    for i, cid in enumerate(train + test):
        assert meta["case_seeds"][cid] == case_seed(5, i)
        case = read_case(root, cid)
        image, label = generate_case(case_seed(5, i), shape)
        np.testing.assert_array_equal(case.image, image)
        np.testing.assert_array_equal(case.label, label)
        assert case.spacing == pytest.approx((5.0, 5.0, 5.0))  # 1.25 mm * 96 / 24 etc.


def test_dataset_cases_differ_and_depend_on_the_dataset_seed():
    assert len({case_seed(0, i) for i in range(100)}) == 100
    assert case_seed(0, 1) != case_seed(1, 1)


def test_dataset_without_test_list_and_bad_counts(tmp_path):
    root = write_phantom_dataset(tmp_path, n_train=1, n_test=0, shape=(16, 16, 12))
    assert read_list(root) == ["phantom_000"]
    assert not (root / "test.list").exists()
    with pytest.raises(ValueError, match="n_train"):
        write_phantom_dataset(tmp_path / "x", n_train=0)


def test_dataset_is_current_detects_other_parameters_versions_and_partial_sets(tmp_path):
    shape = (16, 16, 12)
    root = write_phantom_dataset(tmp_path, n_train=2, n_test=1, seed=3, shape=shape)
    assert dataset_is_current(root, n_train=2, n_test=1, seed=3, shape=shape)
    assert not dataset_is_current(root, n_train=2, n_test=1, seed=4, shape=shape)
    assert not dataset_is_current(root, n_train=2, n_test=1, seed=3, shape=(16, 16, 16))
    assert not dataset_is_current(root, n_train=2, n_test=1, seed=3, shape=shape, difficulty=0.5)
    meta = json.loads((root / "phantom.json").read_text())
    (root / "phantom.json").write_text(json.dumps({**meta, "version": GENERATOR_VERSION - 1}))
    assert not dataset_is_current(root, n_train=2, n_test=1, seed=3, shape=shape)
    (root / "phantom.json").write_text(json.dumps(meta))
    (root / "test.list").unlink()  # an interrupted build writes the lists last
    assert not dataset_is_current(root, n_train=2, n_test=1, seed=3, shape=shape)
    assert not dataset_is_current(tmp_path / "missing")
