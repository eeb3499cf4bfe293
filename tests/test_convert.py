"""Raw LA challenge (NRRD) and MSD (NIfTI) conversion to the h5 layout, on tiny synthetic files."""

import json

import nibabel as nib
import nrrd
import numpy as np
import pytest

from dtml.data.convert import (
    MissingFileError,
    convert_msd,
    convert_raw_challenge,
    crop_box,
    preprocess,
)
from dtml.data.la import read_case, read_list

SHAPE = (60, 56, 12)
BOX = (slice(25, 35), slice(22, 31), slice(3, 9))  # the label's bounding box in every test case
SPACING = (0.7, 0.8, 1.5)


def _volume(seed: int, fg: int = 255) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 200, SHAPE).astype(np.int16)
    label = np.zeros(SHAPE, np.uint8)
    label[BOX] = fg
    image[BOX] += 300
    return image, label


def _raw_case(root, case_id, seed=0, image=None, label=None, skip=()):
    folder = root / case_id
    folder.mkdir(parents=True)
    default_image, default_label = _volume(seed)
    header = {"space directions": np.diag(SPACING), "space": "left-posterior-superior"}
    if "image" not in skip:
        nrrd.write(str(folder / "lgemri.nrrd"), default_image if image is None else image, header)
    if "label" not in skip:
        nrrd.write(str(folder / "laendo.nrrd"), default_label if label is None else label, header)
    return default_image, default_label


def _msd_case(root, case_id, seed=0, image=None, label=None, affine=None, skip=()):
    (root / "imagesTr").mkdir(parents=True, exist_ok=True)
    (root / "labelsTr").mkdir(parents=True, exist_ok=True)
    default_image, default_label = _volume(seed, fg=1)
    affine = np.diag([*SPACING, 1.0]) if affine is None else affine
    if "image" not in skip:
        data = (default_image if image is None else image).astype(np.float32)
        nib.Nifti1Image(data, affine).to_filename(root / "imagesTr" / f"{case_id}.nii.gz")
    if "label" not in skip:
        data = default_label if label is None else label
        nib.Nifti1Image(data, affine).to_filename(root / "labelsTr" / f"{case_id}.nii.gz")
    return default_image, default_label


def _margins(meta_case: dict) -> list[int]:
    (x0, x1), (y0, y1) = meta_case["crop_xy"]
    return [BOX[0].start - x0, x1 - BOX[0].stop, BOX[1].start - y0, y1 - BOX[1].stop]


def test_raw_conversion_crops_xy_keeps_z_and_z_scores_whole_volume(tmp_path):
    src, dst = tmp_path / "raw", tmp_path / "h5"
    image, label = _raw_case(src, "caseB", seed=1)
    _raw_case(src, "caseA", seed=2)
    ids = convert_raw_challenge(src, dst, seed=3)
    assert ids == ["caseA", "caseB"] == read_list(dst, "train.list")
    assert not (dst / "test.list").exists()
    meta = json.loads((dst / "convert.json").read_text())["cases"]["caseB"]
    margins = _margins(meta)
    assert all(10 <= m <= 20 for m in margins)
    (x0, x1), (y0, y1) = meta["crop_xy"]
    case = read_case(dst, "caseB")
    assert case.image.shape == (x1 - x0, y1 - y0, SHAPE[2])  # z untouched
    # z-scored over the WHOLE source volume before cropping, as in the public release
    whole = (image - image.mean()) / image.std()
    np.testing.assert_allclose(case.image, whole[x0:x1, y0:y1], rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(case.label, (label[x0:x1, y0:y1] == 255).astype(np.uint8))
    crop = image[x0:x1, y0:y1].astype(np.float64)
    assert not np.allclose(case.image, (crop - crop.mean()) / crop.std(), atol=1e-3)
    assert case.spacing == pytest.approx(SPACING)
    assert meta["spacing_from_header"] is True


def test_raw_margins_are_seeded_and_per_case(tmp_path):
    src = tmp_path / "raw"
    for i, cid in enumerate(("a", "b", "c")):
        _raw_case(src, cid, seed=i)

    def crops(dst, seed, **kw):
        convert_raw_challenge(src, dst, seed=seed, **kw)
        cases = json.loads((dst / "convert.json").read_text())["cases"]
        return {cid: cases[cid]["crop_xy"] for cid in cases}

    first = crops(tmp_path / "1", seed=0)
    assert crops(tmp_path / "2", seed=0) == first
    assert crops(tmp_path / "3", seed=1) != first
    # A case's crop does not depend on which other cases are converted with it.
    assert crops(tmp_path / "4", seed=0, train_ids=["b"])["b"] == first["b"]
    np.testing.assert_array_equal(
        read_case(tmp_path / "1", "a").image, read_case(tmp_path / "2", "a").image
    )


def test_margin_is_clipped_at_the_volume_border():
    label = np.zeros((20, 20, 4), bool)
    label[2:5, 10:18, 1] = True
    (x0, x1), (y0, y1) = crop_box(label, np.random.default_rng(0), (10, 20))
    assert (x0, y0, y1) == (0, 0, 20)  # every margin reaches past the border here
    assert 15 <= x1 <= 20  # 5 + [10, 20], clipped at the size 20


def test_fixed_margin_and_bad_margin():
    label = np.zeros((60, 60, 3), bool)
    label[20:30, 25:27, 0] = True
    assert crop_box(label, np.random.default_rng(0), (12, 12)) == ((8, 42), (13, 39))
    with pytest.raises(ValueError, match="margin"):
        crop_box(label, np.random.default_rng(0), (20, 10))


def test_preprocess_is_pure_and_returns_types():
    image, label = _volume(0, fg=1)
    out, lab, box = preprocess(image, label == 1, np.random.default_rng(0))
    assert out.dtype == np.float32 and lab.dtype == np.uint8
    assert set(np.unique(lab).tolist()) == {0, 1}
    assert image.dtype == np.int16  # input untouched


def test_raw_train_and_test_lists_follow_the_given_order(tmp_path):
    src, dst = tmp_path / "raw", tmp_path / "h5"
    for i, cid in enumerate(("x", "y", "z")):
        _raw_case(src, cid, seed=i)
    ids = convert_raw_challenge(src, dst, train_ids=["z", "x"], test_ids=["y"])
    assert ids == ["z", "x", "y"]
    assert read_list(dst, "train.list") == ["z", "x"]
    assert read_list(dst, "test.list") == ["y"]
    with pytest.raises(ValueError, match="not found"):
        convert_raw_challenge(src, tmp_path / "o", train_ids=["x", "nope"])
    with pytest.raises(ValueError, match="both"):
        convert_raw_challenge(src, tmp_path / "o", train_ids=["x"], test_ids=["x"])


@pytest.mark.parametrize("missing", ["image", "label"])
def test_raw_missing_file_names_it(tmp_path, missing):
    _raw_case(tmp_path / "raw", "c1", skip=(missing,))
    name = "lgemri.nrrd" if missing == "image" else "laendo.nrrd"
    with pytest.raises(MissingFileError, match=f"c1/{name}: file not found") as err:
        convert_raw_challenge(tmp_path / "raw", tmp_path / "h5")
    assert isinstance(err.value, ValueError) and isinstance(err.value, FileNotFoundError)


def _bad_raw(tmp_path, **kw):
    _raw_case(tmp_path / "raw", "c1", **kw)
    return lambda: convert_raw_challenge(tmp_path / "raw", tmp_path / "h5")


def test_raw_shape_mismatch(tmp_path):
    run = _bad_raw(tmp_path, label=np.zeros((60, 56, 11), np.uint8))
    with pytest.raises(ValueError, match=r"laendo\.nrrd: label shape .* != image shape"):
        run()


def test_raw_label_values_must_be_0_255(tmp_path):
    label = _volume(0, fg=1)[1]  # a {0, 1} mask where the challenge uses {0, 255}
    with pytest.raises(ValueError, match=r"laendo\.nrrd: label values must be in \{0, 255\}"):
        _bad_raw(tmp_path, label=label)()


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_raw_non_finite_image(tmp_path, bad):
    image = _volume(0)[0].astype(np.float32)
    image[0, 0, 0] = bad
    with pytest.raises(ValueError, match=r"lgemri\.nrrd: image contains NaN or Inf"):
        _bad_raw(tmp_path, image=image)()


def test_raw_empty_label(tmp_path):
    with pytest.raises(ValueError, match=r"laendo\.nrrd: label is empty"):
        _bad_raw(tmp_path, label=np.zeros(SHAPE, np.uint8))()


def test_raw_source_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="source folder not found"):
        convert_raw_challenge(tmp_path / "nothing", tmp_path / "h5")
    (tmp_path / "empty" / "other").mkdir(parents=True)
    with pytest.raises(ValueError, match="no case folder"):
        convert_raw_challenge(tmp_path / "empty", tmp_path / "h5")


def test_msd_conversion_records_spacing_and_ignores_resource_forks(tmp_path):
    src, dst = tmp_path / "Task02_Heart", tmp_path / "h5"
    image, label = _msd_case(src, "la_003", seed=1)
    _msd_case(src, "la_001", seed=2)
    (src / "imagesTr" / "._la_003.nii.gz").write_bytes(b"\x00junk")
    ids = convert_msd(src, dst, seed=0)
    assert ids == ["la_001", "la_003"] == read_list(dst, "train.list")
    meta = json.loads((dst / "convert.json").read_text())["cases"]["la_003"]
    assert all(10 <= m <= 20 for m in _margins(meta))
    (x0, x1), (y0, y1) = meta["crop_xy"]
    case = read_case(dst, "la_003")
    assert case.spacing == pytest.approx(SPACING)
    whole = (image - image.mean()) / image.std()
    np.testing.assert_allclose(case.image, whole[x0:x1, y0:y1], rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(case.label, label[x0:x1, y0:y1])


def test_msd_volumes_are_reoriented_to_ras(tmp_path):
    # An x-flipped affine stores the same anatomy reversed along the first axis.
    affine = np.diag([-SPACING[0], SPACING[1], SPACING[2], 1.0])
    image, label = _msd_case(tmp_path / "src", "la_1", affine=affine)
    convert_msd(tmp_path / "src", tmp_path / "h5", margin=(0, 0))
    case = read_case(tmp_path / "h5", "la_1")
    flipped = image[::-1].astype(np.float64)
    whole = (flipped - flipped.mean()) / flipped.std()
    box = np.argwhere(label[::-1])
    (x0, y0), (x1, y1) = box.min(0)[:2], box.max(0)[:2] + 1
    np.testing.assert_allclose(case.image, whole[x0:x1, y0:y1], rtol=1e-5, atol=1e-5)
    assert case.spacing == pytest.approx(SPACING)


def test_msd_errors_name_the_file(tmp_path):
    _msd_case(tmp_path / "a", "la_1", skip=("label",))
    with pytest.raises(MissingFileError, match=r"labelsTr/la_1\.nii\.gz: file not found"):
        convert_msd(tmp_path / "a", tmp_path / "o")

    _msd_case(tmp_path / "b", "la_1", label=_volume(0, fg=2)[1])
    with pytest.raises(ValueError, match=r"la_1\.nii\.gz: label values must be in \{0, 1\}"):
        convert_msd(tmp_path / "b", tmp_path / "o")

    _msd_case(tmp_path / "c", "la_1", label=np.zeros((60, 56, 10), np.uint8))
    with pytest.raises(ValueError, match=r"la_1\.nii\.gz: label shape"):
        convert_msd(tmp_path / "c", tmp_path / "o")

    image = _volume(0)[0].astype(np.float32)
    image[1, 2, 3] = np.nan
    _msd_case(tmp_path / "d", "la_1", image=image)
    with pytest.raises(ValueError, match=r"imagesTr/la_1\.nii\.gz: image contains NaN"):
        convert_msd(tmp_path / "d", tmp_path / "o")

    _msd_case(tmp_path / "e", "la_1", label=np.zeros(SHAPE, np.uint8))
    with pytest.raises(ValueError, match=r"labelsTr/la_1\.nii\.gz: label is empty"):
        convert_msd(tmp_path / "e", tmp_path / "o")

    with pytest.raises(FileNotFoundError, match="imagesTr: MSD folder not found"):
        convert_msd(tmp_path / "nothing", tmp_path / "o")
