"""The input-normalisation study (issue 12): does DTML's gain survive re-z-scored inputs?

The LA release z-scores each volume before cropping it, so the stored crops differ in intensity
scale; the test scans whose stored std lies below that of every labeled scan ("low-scale" scans)
are where a supervised V-Net collapses. The study trains the lower bound, DTML, the upper bound and
mean teacher twice on the paper's split: with the release's stored intensities (``normalization:
stored``, the benchmark) and with every volume re-z-scored over its crop (``volume``), 3 seeds each
(``plans/benchmark.yaml``). This module turns the committed runs of those rows, any number of seeds
(none included), into:

* one row per (table row, normalization): seeds done, Dice % over seeds, and the Dice % on the
  low-scale test scans vs the other test scans (per-scan Dice averaged over seeds);
* the semi-supervised gain (DTML - lower bound) under each normalization, with the paired t-test
  over the test scans of :func:`dtml.report.stats.paired_test`, and how it changes between them;
* the same for mean teacher's gain (``PEER_GAIN``): a check of whether what holds for DTML holds
  for another semi-supervised method (not a claim of the paper; added once its runs had landed);
* Holm's correction over those t-tests read as one family (:func:`test_family`);

every entry saying which runs it still waits for. The low-scale scans come from the per-scan
intensity table (``results/intensity_scale.csv``, ``scripts/intensity_scale.py``): never a list of
ids written by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dtml.config import NORMALIZATIONS
from dtml.experiments import rows_by_label
from dtml.metrics import holm, paired_ttest
from dtml.report.hardware import run_hardware
from dtml.report.intensity import SCALE_FILE, ScaleGroups, scale_groups
from dtml.report.records import RunRecord
from dtml.report.rows import row_records
from dtml.report.sentences import waiting_for, waiting_text
from dtml.report.settings import check_same_setting, describe_setting
from dtml.report.stats import (
    ALPHA,
    PLANNED_SEEDS,
    aggregate,
    missing_seeds,
    paired_test,
    per_case,
)

STUDY_ROWS = ("V-Net (lower bound)", "DTML", "V-Net (upper bound)", "Mean teacher")
GAIN = ("DTML", "V-Net (lower bound)")  # the semi-supervised gain: A - B
PEER_GAIN = ("Mean teacher", "V-Net (lower bound)")  # the check: is the finding DTML's alone?
SHORT = {  # row names that fit a projected table
    "V-Net (lower bound)": "V-Net lower bound",
    "DTML": "DTML",
    "V-Net (upper bound)": "V-Net upper bound",
    "Mean teacher": "Mean teacher",
}


@dataclass
class NormalizationStudy:
    """The study's table (``rows``), its gain tests (``tests``), how the gain changes from
    ``stored`` to ``volume`` inputs (``change``, :func:`gain_change`), the same two for mean
    teacher's gain (``peer_tests``, ``peer_change``), Holm's correction over all of them
    (``family``, :func:`test_family`), the scan groups, the per-scan Dice (normalization -> row ->
    case -> Dice %, mean over seeds) and the provenance."""

    rows: list[dict[str, Any]]
    tests: list[dict[str, Any]]
    change: dict[str, Any]
    peer_tests: list[dict[str, Any]]
    peer_change: dict[str, Any]
    family: list[dict[str, Any]]
    groups: ScaleGroups
    case_dice: dict[str, dict[str, dict[str, float]]]
    provenance: dict[str, Any]


# --- which runs belong to the study -------------------------------------------------------------


def normalization_of(record: RunRecord) -> str:
    """A run's input normalisation; runs from before the field existed fed the stored release."""
    return str(record.config.get("normalization", "stored"))


def study_runs(records: Iterable[RunRecord], normalization: str) -> dict[str, list[RunRecord]]:
    """Evaluated test-split runs of each study row with ``normalization``, sorted by seed.

    DTML takes only ``md_loss: mask`` runs (Table 1's L_dis variants are other rows). Raises
    ValueError when a row has two runs of one seed or the runs of one normalization mix settings.
    """
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got '{normalization}'")
    rows = rows_by_label((3,))
    picked = [
        r
        for r in records
        if r.evaluated
        and r.eval.get("split") == "test"
        and r.config.get("split") == "paper"
        and normalization_of(r) == normalization
    ]
    found = {label: row_records(rows[label], picked) for label in STUDY_ROWS}
    found["DTML"] = [r for r in found["DTML"] if r.config.get("md_loss", "mask") == "mask"]
    check_same_setting([r for runs in found.values() for r in runs])
    return found


# --- the table ----------------------------------------------------------------------------------


def dice_by_case(runs: Sequence[RunRecord]) -> dict[str, float]:
    """Per-scan Dice % of ``runs``, averaged over their seeds."""
    return {c: 100.0 * v for c, v in per_case(runs).items()}


def _group_mean(dice: Mapping[str, float], cases: Sequence[str]) -> float | None:
    values = [dice[c] for c in cases if c in dice]
    return float(np.mean(values)) if values else None


def study_row(
    label: str,
    normalization: str,
    runs: Sequence[RunRecord],
    groups: ScaleGroups,
    seeds: Sequence[int] = PLANNED_SEEDS,
) -> dict[str, Any]:
    """One row of the study table (Dice in %): seeds, mean ± std over seeds, the mean over the
    low-scale and the other test scans of the per-scan Dice averaged over seeds, what it waits for.
    ``status``: "ok" (every planned seed), "partial" (some) or "waiting" (none)."""
    missing = missing_seeds(runs, seeds)
    status = "waiting" if not runs else ("partial" if missing else "ok")
    out: dict[str, Any] = {
        "label": label,
        "normalization": normalization,
        "status": status,
        "n_seeds": len(runs),
        "seeds_planned": len(seeds),
        "seeds": ";".join(str(r.seed) for r in runs),
        "n_missing": len(missing),
        "missing_seeds": ";".join(map(str, missing)),
        "waiting_for": waiting_text(label, runs, seeds),
    }
    stats = aggregate(runs, "dice", 100.0) if runs else {}
    for key in ("seeds_mean", "seeds_std", "cases_mean", "cases_std"):
        out[f"dice_{key}"] = stats.get(key)
    dice = dice_by_case(runs) if runs else {}
    out["n_low_scale"], out["n_other"] = len(groups.low), len(groups.other)
    out["dice_low_scale"] = _group_mean(dice, groups.low)
    out["dice_other"] = _group_mean(dice, groups.other)
    out["runs"] = ";".join(r.name for r in runs)
    return out


def gain_test(
    normalization: str,
    runs: Mapping[str, Sequence[RunRecord]],
    groups: ScaleGroups,
    seeds: Sequence[int] = PLANNED_SEEDS,
    pair: tuple[str, str] = GAIN,
) -> dict[str, Any]:
    """The gain A - B (Dice points) under ``normalization``: the paired t-test over the test scans
    (per-scan Dice averaged over each side's seeds, :func:`~dtml.report.stats.paired_test`) with
    the Wilcoxon signed-rank p of the same pairs (``p_wilcoxon``), and the
    mean per-scan difference on the low-scale and on the other scans. ``status``: "ok", "partial"
    (tested, fewer seeds than planned) or "waiting" (a side has no run: no test)."""
    a, b = pair
    waiting = waiting_for({x: runs[x] for x in pair}, seeds)
    out: dict[str, Any] = {
        "normalization": normalization,
        "a": a,
        "b": b,
        "status": "waiting" if not runs[a] or not runs[b] else ("partial" if waiting else "ok"),
        "waiting_for": waiting,
    }
    keys = ("mean_diff", "median_diff", "n_higher", "t", "p", "p_wilcoxon", "n")
    keys += ("seeds_a", "seeds_b", "significant")
    out.update(dict.fromkeys(keys))
    out.update(dict.fromkeys(("gain_low_scale", "gain_other")))
    if out["status"] == "waiting":
        return out
    test = paired_test(runs[a], runs[b])
    out.update({k: test[k] for k in keys if k in test})
    out["significant"] = bool(test["p"] < ALPHA)
    da, db = per_case(runs[a]), per_case(runs[b])
    diff = {c: 100.0 * (da[c] - db[c]) for c in da}
    out["gain_low_scale"] = _group_mean(diff, groups.low)
    out["gain_other"] = _group_mean(diff, groups.other)
    return out


def gain_change(
    tests: Sequence[Mapping[str, Any]],
    case_dice: Mapping[str, Mapping[str, Mapping[str, float]]],
    groups: ScaleGroups,
) -> dict[str, Any]:
    """How much of the gain survives normalised inputs: per scan, the gain (the tests' A - B,
    Dice points, each averaged over its seeds) with ``volume`` minus the gain with ``stored``
    inputs; its mean (``change``), median, mean on the low-scale and on the other scans, and the
    two-sided paired t-test of the two gains over the scans (does the gain change?) with the
    Wilcoxon signed-rank p of the same pairs (``p_wilcoxon``). ``status``
    as in :func:`gain_test`: "waiting" while either gain has no test. Raises ValueError when the
    two tests compare different rows or a row lacks a scan the others have."""
    by_norm = {t["normalization"]: t for t in tests}
    stored, volume = by_norm["stored"], by_norm["volume"]
    if (stored["a"], stored["b"]) != (volume["a"], volume["b"]):
        raise ValueError(
            f"gain_change: the stored test is {stored['a']} - {stored['b']}, the volume test "
            f"{volume['a']} - {volume['b']}"
        )
    keys = ("gain_stored", "gain_volume", "change", "median_change", "t", "p", "p_wilcoxon", "n")
    out: dict[str, Any] = dict.fromkeys((*keys, "significant", "change_low_scale", "change_other"))
    statuses = {stored["status"], volume["status"]}
    out["status"] = next(s for s in ("waiting", "partial", "ok") if s in statuses)
    out["waiting_for"] = "; ".join(
        f"`{t['normalization']}`: {t['waiting_for']}" for t in (stored, volume) if t["waiting_for"]
    )
    if out["status"] == "waiting":
        return out
    a, b = stored["a"], stored["b"]
    cases = sorted(case_dice["stored"][a])
    for norm in ("stored", "volume"):
        for label in (a, b):
            lacking = sorted(set(cases) ^ set(case_dice[norm][label]))
            if lacking:
                raise ValueError(
                    f"gain_change: `{norm}` {label} and `stored` {a} differ in scans: "
                    + ", ".join(lacking)
                )
    gain = {
        norm: {c: case_dice[norm][a][c] - case_dice[norm][b][c] for c in cases}
        for norm in ("stored", "volume")
    }
    test = paired_ttest([gain["volume"][c] for c in cases], [gain["stored"][c] for c in cases])
    change = {c: gain["volume"][c] - gain["stored"][c] for c in cases}
    out.update(
        gain_stored=float(np.mean(list(gain["stored"].values()))),
        gain_volume=float(np.mean(list(gain["volume"].values()))),
        change=test["mean_diff"],
        median_change=test["median_diff"],
        t=test["t"],
        p=test["p"],
        p_wilcoxon=test["p_wilcoxon"],
        n=test["n"],
        significant=bool(test["p"] < ALPHA),
        change_low_scale=_group_mean(change, groups.low),
        change_other=_group_mean(change, groups.other),
    )
    return out


def test_family(
    tests: Sequence[Mapping[str, Any]],
    change: Mapping[str, Any],
    peer_tests: Sequence[Mapping[str, Any]],
    peer_change: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """The study's t-tests that have run, read as one family: each with its name, its p and its
    Holm-adjusted p (:func:`dtml.metrics.holm`). Each method's gain under each input and each
    gain's change; the README's retrained-lower-bound variants are a sensitivity check, not in it."""
    named = []
    for gains, gain_changed in ((tests, change), (peer_tests, peer_change)):
        named += [(f"{t['a']} − {t['b']}, `{t['normalization']}` inputs", t) for t in gains]
        named.append((change_name(gains), gain_changed))
    ran = [(name, t) for name, t in named if t["status"] != "waiting"]
    adjusted = holm([t["p"] for _, t in ran]) if ran else []
    return [
        {"test": name, "p": t["p"], "p_holm": a, "significant": bool(a < ALPHA)}
        for (name, t), a in zip(ran, adjusted, strict=True)
    ]


def change_name(tests: Sequence[Mapping[str, Any]]) -> str:
    """``DTML − V-Net (lower bound): gain with `volume` minus with `stored` inputs``."""
    return f"{tests[0]['a']} − {tests[0]['b']}: gain with `volume` minus with `stored` inputs"


def _provenance(
    runs: Mapping[str, Mapping[str, Sequence[RunRecord]]], groups: ScaleGroups
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "scale": {
            "source": f"results/{SCALE_FILE}",
            "labeled_std_min": groups.floor,
            "labeled_std_max": groups.ceiling,
            "low_scale_cases": {c: groups.std[c] for c in groups.low},
        }
    }
    for norm, by_row in runs.items():
        found = [r for rs in by_row.values() for r in rs]
        out[norm] = {
            "setting": describe_setting(found) if found else "no evaluated runs",
            "runs": sorted(r.name for r in found),
            "commits": sorted({str(r.train.get("commit")) for r in found}),
            "hardware": sorted({h for r in found for h in run_hardware(r.train)}),
        }
    return out


def normalization_study(
    records: Iterable[RunRecord],
    scale_rows: Iterable[Mapping[str, Any]],
    seeds: Sequence[int] = PLANNED_SEEDS,
) -> NormalizationStudy:
    """The study from run records (any number, none included) and the per-scan intensity table."""
    records = list(records)
    groups = scale_groups(scale_rows)
    runs = {norm: study_runs(records, norm) for norm in NORMALIZATIONS}
    rows = [
        study_row(label, norm, runs[norm][label], groups, seeds)
        for label in STUDY_ROWS
        for norm in NORMALIZATIONS
    ]
    case_dice = {
        norm: {label: dice_by_case(found) for label, found in runs[norm].items() if found}
        for norm in NORMALIZATIONS
    }
    tests, changes = {}, {}
    for pair in (GAIN, PEER_GAIN):
        tests[pair] = [gain_test(norm, runs[norm], groups, seeds, pair) for norm in NORMALIZATIONS]
        changes[pair] = gain_change(tests[pair], case_dice, groups)
    found = (tests[GAIN], changes[GAIN], tests[PEER_GAIN], changes[PEER_GAIN])
    return NormalizationStudy(
        rows,
        *found,
        test_family(*found),
        groups,
        case_dice,
        _provenance(runs, groups),
    )


def runs_done(study: NormalizationStudy) -> tuple[int, int]:
    """(planned runs done, planned runs) over the study's rows."""
    planned = sum(r["seeds_planned"] for r in study.rows)
    return planned - sum(r["n_missing"] for r in study.rows), planned


def has_study_runs(records: Iterable[RunRecord]) -> bool:
    """Whether ``records`` hold a real-data run of the paper's split scored on the test scans:
    the results folder the study belongs to (not the dev-split study, not the phantom)."""
    return any(
        r.evaluated
        and r.real_data is not False
        and r.config.get("split") == "paper"
        and r.eval.get("split") == "test"
        for r in records
    )
