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
