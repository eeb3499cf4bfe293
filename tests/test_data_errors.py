"""The LA readers refuse broken data with an error that names the file and the problem."""

import re

import h5py
import numpy as np
import pytest

from dtml.data.cache import load_case
from dtml.data.la import read_case, read_list

SHAPE = (6, 5, 4)


def _label() -> np.ndarray:
    label = np.zeros(SHAPE, np.uint8)
    label[2:4, 1:3, 1:3] = 1
    return label


def _write(root, case_id="c1", image=None, label=None, keys=("image", "label")):
    """A raw h5 file written around the project's writer, which would refuse these cases."""
    path = root / case_id / "mri_norm2.h5"
    path.parent.mkdir(parents=True)
    arrays = {
        "image": np.zeros(SHAPE, np.float32) if image is None else image,
        "label": _label() if label is None else label,
    }
    with h5py.File(path, "w") as f:
        for key in keys:
            f.create_dataset(key, data=arrays[key])
    return path


def _raises(exc, path, problem, fn, *args, **kwargs):
    with pytest.raises(exc) as err:
        fn(*args, **kwargs)
    message = str(err.value)
    assert str(path) in message, message
    assert re.search(problem, message), message


def test_a_valid_case_reads_back(tmp_path):
    _write(tmp_path)
    case = read_case(tmp_path, "c1")
    assert case.image.dtype == np.float32 and case.label.dtype == np.uint8
    np.testing.assert_array_equal(case.label, _label())


def test_missing_case_folder(tmp_path):
    _raises(FileNotFoundError, tmp_path / "nope", "not found", read_case, tmp_path, "nope")


def test_missing_h5_in_existing_folder(tmp_path):
    (tmp_path / "c1").mkdir()
    path = tmp_path / "c1" / "mri_norm2.h5"
    _raises(FileNotFoundError, path, "not found", read_case, tmp_path, "c1")


def test_missing_list_file(tmp_path):
    _raises(FileNotFoundError, tmp_path / "train.list", "not found", read_list, tmp_path)


def test_list_entry_without_case(tmp_path):
    _write(tmp_path, "c1")
    (tmp_path / "train.list").write_text("c1\nghost\n")
    ids = read_list(tmp_path)
    assert ids == ["c1", "ghost"]
    _raises(FileNotFoundError, tmp_path / "ghost", "not found", read_case, tmp_path, ids[1])


def test_duplicate_list_entry(tmp_path):
    (tmp_path / "train.list").write_text("c1\nc2\nc1\n")
    _raises(ValueError, tmp_path / "train.list", "duplicate", read_list, tmp_path)


@pytest.mark.parametrize("key", ["image", "label"])
def test_missing_dataset_key(tmp_path, key):
    keys = ("image", "label")
    path = _write(tmp_path, keys=tuple(k for k in keys if k != key))
    _raises(ValueError, path, f"missing.*'{key}'", read_case, tmp_path, "c1")


def test_unlabeled_read_does_not_need_the_label_key(tmp_path):
    _write(tmp_path, keys=("image",))
    assert read_case(tmp_path, "c1", with_label=False).label is None


def test_image_label_shape_mismatch(tmp_path):
    path = _write(tmp_path, label=np.ones((6, 5, 3), np.uint8))
    _raises(ValueError, path, r"shape.*\(6, 5, 4\).*\(6, 5, 3\)", read_case, tmp_path, "c1")


@pytest.mark.parametrize("value", [2, 255])
def test_label_values_outside_0_1(tmp_path, value):
    label = _label() * value
    path = _write(tmp_path, label=label)
    _raises(ValueError, path, rf"label values.*{value}", read_case, tmp_path, "c1")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_image(tmp_path, bad):
    image = np.zeros(SHAPE, np.float32)
    image[1, 1, 1] = bad
    path = _write(tmp_path, image=image)
    _raises(ValueError, path, "NaN or Inf", read_case, tmp_path, "c1")
    # The same check holds when the image is read without its label.
    _raises(ValueError, path, "NaN or Inf", read_case, tmp_path, "c1", with_label=False)


def test_empty_label_in_a_labeled_case(tmp_path):
    path = _write(tmp_path, label=np.zeros(SHAPE, np.uint8))
    _raises(ValueError, path, "empty", read_case, tmp_path, "c1")


def test_cached_loader_raises_the_same_errors_and_caches_nothing(tmp_path):
    cache = tmp_path / "cache"
    path = _write(tmp_path / "data", label=np.zeros(SHAPE, np.uint8))
    _raises(ValueError, path, "empty", load_case, tmp_path / "data", "c1", cache_dir=cache)
    folder = tmp_path / "data" / "nope"
    _raises(
        FileNotFoundError, folder, "not found", load_case, tmp_path / "data", "nope", 1.0, cache
    )
    assert not cache.exists() or not any(p.is_file() for p in cache.rglob("*"))
