"""Plans (dtml.plan): expansion order, override precedence, one-line errors, value conversion."""

from __future__ import annotations

import pytest

from dtml.plan import load_plan, plan_value, run_config


def test_expansion_order_and_override_precedence(tmp_path, tiny_root, tiny_plan_set, write_plan):
    path = write_plan(
        tmp_path / "p.yaml",
        profile="ci",
        split="dev",
        seeds=[1, 2],
        labeled_counts=[4, 2],
        set={**tiny_plan_set, "lr": 0.02},
        stages=[
            {"name": "a", "rows": ["M_s only", "DTML"]},
            {"name": "b", "rows": ["M_d only"], "seeds": [7], "set": {"lr": 0.5}},
        ],
    )
    plan = load_plan(path)
    order = [(r.stage, r.label, r.overrides["labeled_count"], r.seed) for r in plan.runs]
    assert order == [
        ("a", "M_s only", 4, 1),
        ("a", "M_s only", 4, 2),
        ("a", "M_s only", 2, 1),
        ("a", "M_s only", 2, 2),
        ("a", "DTML", 4, 1),
        ("a", "DTML", 4, 2),
        ("a", "DTML", 2, 1),
        ("a", "DTML", 2, 2),
        ("b", "M_d only", 4, 7),
        ("b", "M_d only", 2, 7),
    ]
    assert plan.stages == ("a", "b")
    cfgs = [run_config(plan, r, tiny_root) for r in plan.runs]
    assert [c.lr for c in cfgs] == [0.02] * 8 + [0.5] * 2  # the stage's set wins
    assert {c.patch for c in cfgs} == {(16, 16, 16)} and {c.profile for c in cfgs} == {"ci"}
    assert [c.method for c in cfgs[:5]] == ["supervised"] * 4 + ["dtml"]
    assert len({c.key() for c in cfgs}) == len(cfgs)  # every run its own configuration


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ({"stages": [{"rows": ["DTML"]}], "seed": [1]}, r"unknown plan keys \['seed'\]"),
        ({"stages": [{"name": "s", "rows": ["DTML"], "row": 1}]}, r"stage 's': unknown keys"),
        ({"stages": [{"name": "s", "rows": ["Nope"]}]}, r"stage 's': unknown row 'Nope'"),
        ({"set": {"bogus": 1}, "stages": [{"rows": ["DTML"]}]}, r"unknown config keys \['bogus'\]"),
        ({"set": {"patch": "16x16"}, "stages": [{"rows": ["DTML"]}]}, r"bad value in 'set'"),
        ({"set": {"method": "dtc"}, "stages": [{"rows": ["DTML"]}]}, r"cannot change \['method'\]"),
        ({"profile": "gpu", "stages": [{"rows": ["DTML"]}]}, r"unknown profile 'gpu'"),
        ({"seeds": 3, "stages": [{"rows": ["DTML"]}]}, r"'seeds' must be a non-empty list"),
        ({"stages": []}, r"the plan has no runs"),
    ],
)
def test_plan_errors_are_one_line_naming_the_file(tmp_path, plan, message, write_plan):
    path = write_plan(tmp_path / "bad.yaml", **plan)
    with pytest.raises(ValueError, match=message) as info:
        load_plan(path)
    assert str(info.value).startswith(f"{path}: ") and "\n" not in str(info.value)


def test_missing_or_unparsable_plan_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=rf"{tmp_path}/none.yaml: plan file not found"):
        load_plan(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("stages: [\n")
    with pytest.raises(ValueError, match=rf"{bad}: not valid YAML") as info:
        load_plan(bad)
    assert "\n" not in str(info.value)


def test_plan_values_are_converted_as_set_would_convert_them():
    from dtml.config import parse_overrides

    for name, value in [("patch", "16x16x16"), ("lr", "0.5"), ("consistency", "none")]:
        assert plan_value(name, value) == parse_overrides([f"{name}={value}"])[name]
    assert plan_value("patch", [16, 16, 32]) == (16, 16, 32)
    assert plan_value("k", 1500) == 1500 and plan_value("eval_patch", None) is None
