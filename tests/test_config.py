import pytest

from dtml.config import TrainConfig, load_profile, parse_overrides


@pytest.mark.parametrize("name", ["ci", "cpu", "paper"])
def test_profiles_load(name):
    cfg = load_profile(name)
    assert cfg.profile == name and all(p % 16 == 0 for p in cfg.patch)


def test_paper_profile_is_the_paper_setting():
    cfg = load_profile("paper")
    assert cfg.patch == (112, 112, 80) and cfg.iterations == 6000 and cfg.lr_step == 2500
    assert (cfg.labeled_bs, cfg.unlabeled_bs, cfg.lr, cfg.k) == (2, 2, 0.01, 1500.0)


def test_overrides_are_typed():
    o = parse_overrides(["patch=64x64x48", "iterations=10", "consistency=none", "grid=0.5"])
    assert o == {"patch": (64, 64, 48), "iterations": 10, "consistency": None, "grid": 0.5}
    with pytest.raises(ValueError, match="unknown config key"):
        parse_overrides(["iters=3"])


def test_key_ignores_bookkeeping_but_not_results():
    a = TrainConfig()
    assert a.key() == a.replace(runs_dir="elsewhere", log_every=1).key()
    assert a.key() != a.replace(seed=2).key() != a.replace(fidelity="paper").key()


def test_lambda_max_defaults_follow_fidelity():
    assert TrainConfig().lambda_max == 1.0
    assert TrainConfig(fidelity="paper").lambda_max == 0.1


@pytest.mark.parametrize(
    "bad", [{"patch": (60, 64, 48)}, {"fidelity": "both"}, {"precision": "fp16"}, {"md_loss": "l2"}]
)
def test_invalid_configs_raise(bad):
    with pytest.raises(ValueError):
        TrainConfig(**bad)


def test_new_fields_are_in_the_key():
    a = TrainConfig()
    assert a.key() != a.replace(normalization="volume").key() != a.replace(pipeline=1).key()
    with pytest.raises(ValueError, match="normalization"):
        TrainConfig(normalization="percentile")
    with pytest.raises(ValueError, match="pipeline"):
        TrainConfig(pipeline=1, normalization="volume")


def test_saved_configs_without_pipeline_are_pipeline_1():
    """Configs saved before the pipeline field existed load as pipeline 1 and keep their key:
    the key is computed exactly as before (no pipeline/normalization fields, data by path)."""
    import hashlib
    import json

    from dtml.config import NON_RESULT_FIELDS, config_from_dict

    old = {k: v for k, v in TrainConfig(data="/some/LA").to_dict().items()}
    for name in ("pipeline", "normalization", "data_id"):
        old.pop(name)
    cfg = config_from_dict(old)
    assert cfg.pipeline == 1
    expected = {k: v for k, v in old.items() if k not in NON_RESULT_FIELDS}
    expected["data"] = "/some/LA"
    digest = hashlib.sha1(json.dumps(expected, sort_keys=True).encode()).hexdigest()[:12]
    assert cfg.key() == digest
    with pytest.raises(ValueError, match="unknown config keys"):
        config_from_dict({**old, "iters": 3})


def test_pipeline2_key_names_data_by_content_not_path(tiny_root, tmp_path):
    """The same scans under another folder give the same run key (pipeline 2)."""
    import shutil

    copy = tmp_path / "elsewhere" / "LA"
    shutil.copytree(tiny_root, copy)
    a = TrainConfig(data=tiny_root).with_data_id()
    b = TrainConfig(data=str(copy)).with_data_id()
    assert a.data_id == b.data_id and a.data_id.startswith("la-")
    assert a.key() == b.key()
    assert a.replace(data=None).key() == a.key()  # a saved config holds no path
