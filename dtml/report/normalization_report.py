"""The input-normalisation study as text and files: its projectable table, one sentence per gain
test and on how the gain changes with normalised inputs (DTML's, then mean teacher's as a check),
Holm's correction over those tests, and ``normalization.{csv,md,json}``.

The numbers come from :mod:`dtml.report.normalization`; nothing here computes a result.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dtml.config import NORMALIZATIONS
from dtml.report.hardware import short_hardware
from dtml.report.intensity import ScaleGroups, low_scale_sentence
from dtml.report.normalization import SHORT, NormalizationStudy, runs_done
from dtml.report.sentences import (
    num,
    p_text,
    pm,
    preliminary,
    result_text,
    seeds_text,
    verdict,
    wilcoxon_text,
)
from dtml.report.stats import ALPHA


def _missing(row: Mapping[str, Any]) -> str:
    return seeds_text([int(s) for s in row["missing_seeds"].split(";") if s])


def study_table(study: NormalizationStudy) -> str:
    """The study as a 7-column markdown table (projectable): row, inputs, seeds, Dice % over
    seeds, Dice % on the low-scale and on the other test scans, what the row waits for."""
    g = study.groups
    lines = [
        f"| row | inputs | seeds | Dice % (over seeds) | Dice % on the {g.low_text} "
        f"| Dice % on the other {len(g.other)} | waiting for |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in study.rows:
        lines.append(
            f"| {SHORT.get(r['label'], r['label'])} | {r['normalization']} | "
            f"{r['n_seeds']} of {r['seeds_planned']} | "
            f"{pm(r['dice_seeds_mean'], r['dice_seeds_std'], missing='–')} | "
            f"{num(r['dice_low_scale'], missing='–')} | {num(r['dice_other'], missing='–')} | "
            f"{_missing(r) or '–'} |"
        )
    return "\n".join(lines) + "\n"


def gain_sentence(test: Mapping[str, Any], groups: ScaleGroups) -> str:
    """One honest sentence on the gain under one normalization (or what it waits for)."""
    head = f"Gain {test['a']} − {test['b']} with `{test['normalization']}` inputs"
    if test["status"] == "waiting":
        return f"{head}: waiting for {test['waiting_for']}; no test yet."
    result = result_text(test, test["a"], "test scans", detail=_by_group(test, groups, "gain"))
    return f"{preliminary(head, test['waiting_for'])}: {result}"


def change_sentence(
    change: Mapping[str, Any],
    groups: ScaleGroups,
    head: str = "Gain with `volume` minus gain with `stored` inputs",
) -> str:
    """How much of the gain survives normalised inputs (:func:`~dtml.report.normalization.
    gain_change`), or what it waits for."""
    if change["status"] == "waiting":
        return f"{head}: waiting for {change['waiting_for']}; no test yet."
    return (
        f"{preliminary(head, change['waiting_for'])}: {change['change']:+.2f} Dice points (gain "
        f"{change['gain_volume']:+.2f} vs {change['gain_stored']:+.2f}; "
        f"{_by_group(change, groups)}; median per "
        f"scan {change['median_change']:+.2f}); paired t-test of the per-scan gains over the "
        f"{change['n']} test scans: t = {change['t']:.2f}, {p_text(change['p'])}, "
        f"{verdict(change['p'])}{wilcoxon_text(change)}."
    )


def both_p(test: Mapping[str, Any]) -> str:
    """``t-test p = 0.067, Wilcoxon p = 0.030``: the declared test and its rank check (only the
    t-test where the result has no Wilcoxon p)."""
    p = test.get("p_wilcoxon")
    rank = "" if p is None else f", Wilcoxon {p_text(p)}"
    return f"t-test {p_text(test['p'])}{rank}"


def _pending(item: Mapping[str, Any]) -> str:
    return f"; preliminary, missing {item['waiting_for']}" if item["waiting_for"] else ""


def gain_brief(tests: Sequence[Mapping[str, Any]]) -> str:
    """The gain tests in one line (the README's glance; :func:`gain_sentence` gives each in
    full): ``Gain A − B over the 20 test scans: +6.61 Dice points with `stored` inputs (t-test
    p = 0.067, Wilcoxon p = 0.030); ...``."""
    parts, n = [], None
    for t in tests:
        inputs = f"`{t['normalization']}` inputs"
        if t["status"] == "waiting":
            parts.append(f"with {inputs} waiting for {t['waiting_for']}")
            continue
        n = t["n"]
        parts.append(f"{t['mean_diff']:+.2f} Dice points with {inputs} ({both_p(t)}{_pending(t)})")
    scans = f"the {n} test scans" if n else "the test scans"
    return f"Gain {tests[0]['a']} − {tests[0]['b']} over {scans}: " + "; ".join(parts) + "."


def peer_brief(tests: Sequence[Mapping[str, Any]], change: Mapping[str, Any]) -> str:
    """Mean teacher's gain tests and their change in one line (the README's glance), said to be a
    post-hoc check: ``Mean teacher − V-Net (lower bound), a post-hoc check (not a claim of the
    paper): +6.72 with `stored` inputs (...); -1.72 with `volume` inputs (...); normalised inputs
    change that gain by ...``."""
    parts = []
    for t in tests:
        inputs = f"with `{t['normalization']}` inputs"
        if t["status"] == "waiting":
            parts.append(f"{inputs} waiting for {t['waiting_for']}")
            continue
        higher = f"; higher on {t['n_higher']} of {t['n']} scans"
        parts.append(f"{t['mean_diff']:+.2f} {inputs} ({both_p(t)}{higher}{_pending(t)})")
    text = f"{tests[0]['a']} − {tests[0]['b']}, a post-hoc check (not a claim of the paper): "
    text += "; ".join(parts)
    if change["status"] == "waiting":
        return text + "."
    return (
        f"{text}; normalised inputs change that gain by {change['change']:+.2f} "
        f"({both_p(change)}{_pending(change)})."
    )


def change_brief(change: Mapping[str, Any], groups: ScaleGroups) -> str:
    """:func:`change_sentence` in short: by how much normalised inputs change the gain, and
    where."""
    head = "Normalised inputs change that gain by"
    if change["status"] == "waiting":
        return f"{head}: waiting for {change['waiting_for']}."
    return (
        f"{head} {change['change']:+.2f} points ({_by_group(change, groups)}; {both_p(change)}"
        f"{_pending(change)})."
    )


def _by_group(item: Mapping[str, Any], groups: ScaleGroups, key: str = "change") -> str:
    """``-25.45 on the 5 low-scale scans, -1.00 on the other 15`` from ``<key>_low_scale`` and
    ``<key>_other``."""
    low = num(item[f"{key}_low_scale"], sign=True, missing="–")
    other = num(item[f"{key}_other"], sign=True, missing="–")
    return f"{low} on the {groups.low_text}, {other} on the other {len(groups.other)}"


PEER_CHECK = (
    "A check, added after the mean teacher's `volume` runs had landed (post hoc, not a claim of "
    "the paper): does another semi-supervised method's gain behave the same?"
)


def gain_bullets(study: NormalizationStudy) -> list[str]:
    """One sentence per test of DTML's gain, then one on how normalised inputs change it."""
    out = [gain_sentence(t, study.groups) for t in study.tests]
    return [*out, change_sentence(study.change, study.groups)]


def peer_bullets(study: NormalizationStudy) -> list[str]:
    """:func:`gain_bullets` for mean teacher's gain, the first led by ``PEER_CHECK``."""
    head = f"{study.peer_tests[0]['a']}'s gain with `volume` minus with `stored` inputs"
    out = [gain_sentence(t, study.groups) for t in study.peer_tests]
    out.append(change_sentence(study.peer_change, study.groups, head))
    return [f"{PEER_CHECK} {out[0]}", *out[1:]]


def family_sentence(study: NormalizationStudy) -> str | None:
    """Holm's correction over the study's t-tests (``study.family``), naming each test that stays
    significant; None while fewer than two have run."""
    family = study.family
    if len(family) < 2:
        return None
    raw = sum(t["p"] < ALPHA for t in family)
    kept = [t for t in family if t["significant"]]
    named = "; ".join(
        f"{t['test']} ({p_text(t['p'])}, adjusted {p_text(t['p_holm'])})" for t in kept
    )
    return (
        f"Holm's correction over the study's {len(family)} t-tests (each method's gain with each "
        "input, and each gain's change; the retrained lower bound, a sensitivity check, is left "
        f"out; this family was fixed after the p-values were seen): {raw} below {ALPHA:g} "
        f"uncorrected, {len(kept)} after correction" + (f": {named}." if named else ".")
    )


def study_markdown(study: NormalizationStudy, title: str | None = None) -> str:
    """Table, the low-scale scans, one sentence per gain test and per gain change (DTML's, then
    mean teacher's), Holm's correction over them and where the runs were trained."""
    done, planned = runs_done(study)
    lines = [f"### {title}", ""] if title else []
    lines += [study_table(study)]
    lines.append(f"{done} of {planned} planned runs done. Dice %: mean ± std over seeds.")
    lines += ["", f"- {low_scale_sentence(study.groups)}"]
    family = family_sentence(study)
    lines += [f"- {b}" for b in (*gain_bullets(study), *peer_bullets(study))]
    lines += [f"- {family}"] if family else []
    for norm in NORMALIZATIONS:
        prov = study.provenance[norm]
        if prov["runs"]:
            hardware = "; ".join(short_hardware(h) for h in prov["hardware"])
            lines.append(f"- `{norm}` runs: {prov['setting']}; hardware: {hardware}.")
    return "\n".join(lines) + "\n"


# --- files --------------------------------------------------------------------------------------


def study_dict(study: NormalizationStudy) -> dict[str, Any]:
    """Everything the study holds, JSON-ready (the per-scan Dice included)."""
    return {
        "rows": study.rows,
        "tests": study.tests,
        "change": study.change,
        "peer_tests": study.peer_tests,
        "peer_change": study.peer_change,
        "family": study.family,
        "groups": {
            "labeled_std_min": study.groups.floor,
            "labeled_std_max": study.groups.ceiling,
            "test_std": study.groups.std,
            "low_scale": list(study.groups.low),
            "other": list(study.groups.other),
        },
        "case_dice": study.case_dice,
        "provenance": study.provenance,
    }


def save_study(
    study: NormalizationStudy, folder: str | Path, name: str = "normalization"
) -> list[Path]:
    """``<folder>/<name>.csv`` (the table rows, every column), ``.md`` and ``.json``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / f"{name}.csv"
    keys = list(study.rows[0])
    with csv_path.open("w", newline="") as f:
        writer = csv.DictWriter(f, keys)
        writer.writeheader()
        writer.writerows([{k: ("" if r[k] is None else r[k]) for k in keys} for r in study.rows])
    md = folder / f"{name}.md"
    md.write_text(study_markdown(study, "Input normalisation study (test split)"))
    js = folder / f"{name}.json"
    js.write_text(json.dumps(study_dict(study), indent=2) + "\n")
    return [csv_path, md, js]
