"""The portable export: bit-exact round trip, same run key, named errors, no label leakage."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from dtml.data import exported
from dtml.data.cache import load_case
from dtml.data.export import export, main
from dtml.data.fingerprint import cases_digest, fingerprint
from dtml.data.la import read_list
from dtml.data.paths import data_root_or_phantom
from dtml.methods import get_method
from dtml.train import make_batch, training_cases

SHARD_MB = 0.004  # 4 kB shards: the tiny data set spreads over several


@pytest.fixture(scope="module")
def export_root(tiny_root, tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("export") / "la_export"
    argv = ["--data", tiny_root, "--profile", "ci", "--out", str(out), "--shard-mb", str(SHARD_MB)]
    assert main(argv) == 0
    return str(out)


def test_cli_prints_sizes_and_writes_bounded_shards(export_root, tiny_root, capsys):
    manifest = json.loads((Path(export_root) / "manifest.json").read_text())
    assert manifest["grid"] == 0.5 and manifest["grids"] == [0.5, 1.0]
    assert len(manifest["shards"]) > 1
    for name, size in manifest["shards"].items():
        assert (Path(export_root) / name).stat().st_size == size <= SHARD_MB * 1e6
    for name in ("train.list", "test.list"):  # the lists, verbatim
        assert (Path(export_root) / name).read_bytes() == (Path(tiny_root) / name).read_bytes()
    assert not list(Path(export_root).parent.glob(".*tmp*"))  # no temporary folder left


def test_round_trip_is_bit_exact(export_root, tiny_root):
    ids = read_list(tiny_root, "train.list") + read_list(tiny_root, "test.list")
    for case_id in ids:
        ours, ref = load_case(export_root, case_id, 0.5), load_case(tiny_root, case_id, 0.5)
        assert ours.image.dtype == ref.image.dtype == np.float32
        np.testing.assert_array_equal(ours.image, ref.image)
        np.testing.assert_array_equal(ours.label, ref.label)
        assert ours.label.dtype == ref.label.dtype and ours.spacing == ref.spacing
        unlabeled = load_case(export_root, case_id, 0.5, with_label=False)
        np.testing.assert_array_equal(unlabeled.image, ref.image)
        full, full_ref = load_case(export_root, case_id, 1.0), load_case(tiny_root, case_id, 1.0)
        np.testing.assert_array_equal(full.label, full_ref.label)
        assert full.spacing == full_ref.spacing and full.image is None  # no full-grid image


def test_same_fingerprint_run_key_and_training_batches(export_root, tiny_root, tiny_cfg):
    manifest = exported.read_manifest(export_root)
    assert fingerprint(export_root) == manifest["fingerprint"] == fingerprint(tiny_root)
    ids = read_list(tiny_root, "test.list")
    assert cases_digest(export_root, ids) == cases_digest(tiny_root, ids)  # evaluation records
    assert data_root_or_phantom(export_root) == (Path(export_root), True)
    cfg = tiny_cfg.replace(grid=0.5, method="dtml")
    on_export = cfg.replace(data=export_root)
    assert on_export.with_data_id().key() == cfg.with_data_id().key()
    method = get_method("dtml")
    lab_a, unl_a, info_a = training_cases(cfg, method)
    lab_b, unl_b, info_b = training_cases(on_export, method)
    assert info_a == info_b and all(c.label is None for c in unl_b)
    for it in range(4):
        a = make_batch(cfg, it, lab_a, unl_a, torch.device("cpu"))
        b = make_batch(on_export, it, lab_b, unl_b, torch.device("cpu"))
        assert torch.equal(a.image, b.image) and torch.equal(a.label, b.label)


def test_unlabeled_use_never_reads_a_label(export_root, monkeypatch):
    read = []
    real = exported.read_array
    monkeypatch.setattr(exported, "read_array", lambda root, e: read.append(e) or real(root, e))
    case = load_case(export_root, "case03", 0.5, with_label=False)
    assert case.label is None
    assert [e["codec"] for e in read] == [exported.IMAGE_CODEC]
    with pytest.raises(FileNotFoundError, match=r"only the label at grid 1 for case 'case03'"):
        load_case(export_root, "case03", 1.0, with_label=False)


@pytest.mark.parametrize(
    ("case_id", "grid", "message"),
    [
        ("nope", 0.5, r"la_export: the export has no case 'nope'"),
        ("case01", 0.25, r"la_export: the export has no grid 0.25 for case 'case01'"),
    ],
)
def test_missing_case_or_grid_is_named(export_root, case_id, grid, message):
    with pytest.raises(FileNotFoundError, match=message):
        load_case(export_root, case_id, grid)


def test_damaged_shard_is_named(export_root, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(export_root, copy)
    entry = exported.read_manifest(copy)["cases"]["case02"]["0.5"]["image"]
    shard = copy / entry["shard"]
    data = bytearray(shard.read_bytes())
    data[entry["offset"] + entry["size"] // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=rf"{entry['shard']}: damaged export shard"):
        load_case(copy, "case02", 0.5)


def test_export_refuses_bad_arguments(export_root, tiny_root, tmp_path):
    with pytest.raises(FileExistsError, match="already exists"):
        export(tiny_root, "ci", export_root)
    with pytest.raises(ValueError, match="must include train.list"):
        export(tiny_root, "ci", tmp_path / "x", lists=("test.list",))
    with pytest.raises(ValueError, match="already an export"):
        export(export_root, "ci", tmp_path / "y")
    with pytest.raises(ValueError, match="case 'case00' image: .* raise --shard-mb"):
        export(tiny_root, "ci", tmp_path / "z", shard_mb=1e-4)
    assert not (tmp_path / "z").exists() and not list(tmp_path.glob(".z.tmp*"))


def test_evaluation_from_the_export_equals_the_release(export_root, tiny_cfg):
    from dtml.evaluate import evaluate_run
    from dtml.train import train

    run = train(tiny_cfg.replace(grid=0.5, method="supervised", iterations=2), progress=False)
    ref = evaluate_run(run, tiny_cfg.data, "dev")
    ours = evaluate_run(run, export_root, "dev", force=True)
    for key in ("metrics_voxel", "metrics_run_grid", "data_id", "eval_cases_digest", "n_cases"):
        assert ours[key] == ref[key]


def test_split_parts_read_their_cases_and_join_bit_exact(export_root, tiny_root, tmp_path):
    from dtml.data.export import join_export, part_overhead, split_export

    streams = sum(exported.read_manifest(export_root)["shards"].values())
    part_mb = (part_overhead(export_root) + streams / 2.5) / 1e6
    parts = split_export(export_root, tmp_path, part_mb, first=["case11", "case10"])
    assert len(parts) == 3 and [p.name for p in parts][0] == "la_export-part1"
    have = [exported.available_cases(p) for p in parts]
    assert {"case10", "case11"} <= have[0] and not (have[0] & have[1]) and not (have[1] & have[2])
    for part in parts:
        assert sum(f.stat().st_size for f in part.iterdir()) <= part_mb * 1e6
        assert fingerprint(part) == fingerprint(tiny_root)  # each part has the data's identity
    np.testing.assert_array_equal(
        load_case(parts[0], "case10", 0.5).image, load_case(tiny_root, "case10", 0.5).image
    )
    with pytest.raises(FileNotFoundError, match=r"shard-00\d\.bin: export shard missing"):
        load_case(parts[0], sorted(have[1])[0], 0.5)

    joined = join_export(parts, tmp_path / "joined")
    assert exported.available_cases(joined) == set(exported.read_manifest(export_root)["cases"])
    for case_id in read_list(tiny_root, "train.list") + read_list(tiny_root, "test.list"):
        for grid in (0.5, 1.0):
            ours, ref = load_case(joined, case_id, grid), load_case(export_root, case_id, grid)
            assert ours.spacing == ref.spacing and ours.label.dtype == ref.label.dtype
            np.testing.assert_array_equal(ours.label, ref.label)
            if grid == 0.5:
                np.testing.assert_array_equal(ours.image, ref.image)


def test_split_and_join_refuse_bad_arguments(export_root, tmp_path):
    from dtml.data.export import join_export, split_export

    parts = split_export(export_root, tmp_path, 1.0)
    assert len(parts) == 1
    with pytest.raises(FileExistsError, match="la_export-part1: already exists"):
        split_export(export_root, tmp_path, 1.0)
    with pytest.raises(ValueError, match=r"cases \['nope'\] to put first are not in the export"):
        split_export(export_root, tmp_path / "x", 1.0, first=["nope"])
    with pytest.raises(ValueError, match="exceeds a part"):
        split_export(export_root, tmp_path / "y", 0.0001 + part_mb_overhead(export_root))
    streams = sum(exported.read_manifest(export_root)["shards"].values())
    two = split_export(
        export_root, tmp_path / "two", part_mb_overhead(export_root) + streams / 1.6e6
    )
    assert len(two) == 2
    with pytest.raises(FileNotFoundError, match=r"shard shard-001\.bin of this split export is in"):
        join_export(two[:1], tmp_path / "half")
    with pytest.raises(ValueError, match="its manifest differs"):
        join_export([two[0], parts[0]], tmp_path / "mixed")
    assert not (tmp_path / "half").exists() and not list(tmp_path.glob(".half*"))


def part_mb_overhead(root) -> float:
    from dtml.data.export import part_overhead

    return part_overhead(root) / 1e6
