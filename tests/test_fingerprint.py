import shutil

import h5py
import numpy as np
import pytest

from dtml.data.fingerprint import fingerprint
from dtml.data.la import case_path, write_list


@pytest.fixture()
def copy_root(tiny_root, tmp_path):
    dest = tmp_path / "copy"
    shutil.copytree(tiny_root, dest)
    return dest


def test_fingerprint_ignores_the_folder(tiny_root, copy_root):
    assert fingerprint(tiny_root) == fingerprint(copy_root)


def test_fingerprint_changes_with_content(tiny_root, copy_root):
    ids = (copy_root / "train.list").read_text().split()
    with h5py.File(case_path(copy_root, ids[3]), "r+") as f:
        f["image"][0, 0, 0] = 123.0  # one voxel of one scan
    assert fingerprint(tiny_root) != fingerprint(copy_root)


def test_fingerprint_depends_on_list_order(tiny_root, copy_root):
    ids = (copy_root / "train.list").read_text().split()
    write_list(copy_root, "train.list", ids[1:] + ids[:1])  # another case is labeled first
    assert fingerprint(tiny_root) != fingerprint(copy_root)


def test_fingerprint_of_missing_case_names_the_file(copy_root):
    ids = (copy_root / "train.list").read_text().split()
    case_path(copy_root, ids[0]).unlink()
    with pytest.raises(FileNotFoundError, match=ids[0]):
        fingerprint(copy_root)


def test_large_files_are_sampled_head_and_tail(tmp_path):
    from dtml.data.fingerprint import file_digest

    data = np.random.default_rng(0).bytes(3 << 20)
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(data)
    b.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # last byte differs
    assert file_digest(a) != file_digest(b)
