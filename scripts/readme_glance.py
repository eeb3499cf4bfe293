"""The README's opening block, "Results at a glance" (:func:`build_glance`): every benchmark row
with a run beside its `volume` twin and the paper, then the answers in short, each computed from
the committed runs of ``results/cpu_paper`` (the full sentences are in the blocks of
``readme_test_results``).

Called by ``scripts/readme_results.py``.
"""

from __future__ import annotations

from pathlib import Path

from readme_test_results import (  # scripts/ is on sys.path
    CLAIMS,
    ROWS,
    label_in_paper,
    paper_dice,
    retrained,
    retrained_change,
    runs_by_row,
)

from dtml.methods import METHODS
from dtml.report import aggregate, committed_records
from dtml.report.intensity import SCALE_FILE, read_scale
from dtml.report.normalization import gain_test, normalization_study, study_row, study_runs
from dtml.report.normalization_report import both_p, change_brief, gain_brief, peer_brief
from dtml.report.sentences import holm_counts, num, pm, seeds_text, waiting_for
from dtml.report.stats import missing_seeds, paired_test

LOWER = "V-Net (lower bound)"


def _mean_speed(records: list) -> str:
    speeds = [r.train["seconds_per_iteration"] for r in records]
    return f"{sum(speeds) / len(speeds):.2f} s/it"


def retrained_brief(runs: dict[str, list], study, twins: list) -> str | None:
    """The glance's line on the `stored` lower bound's keys trained again on another machine
    (``twins``, :func:`retrained`): both machines' speeds, its Dice, the gain and the gain change
    with it; None while either has no test."""
    lower = runs[LOWER]
    gain = gain_test("stored", {**runs, LOWER: twins}, study.groups)
    change = retrained_change(study, twins)
    if "waiting" in (gain["status"], change["status"]):
        return None
    row = study_row(LOWER, "stored", twins, study.groups)
    pending = f" (preliminary, missing {gain['waiting_for']})" if gain["waiting_for"] else ""
    return (
        "The committed `stored` lower bound was trained on another machine than its keys' "
        f"retrains ({_mean_speed(lower)} against {_mean_speed(twins)}; "
        "[`results/hardware_check`](results/hardware_check/README.md)). With the retrains "
        f"({pm(row['dice_seeds_mean'], row['dice_seeds_std'])} Dice %){pending}, DTML's `stored` "
        f"gain is {gain['mean_diff']:+.2f} ({both_p(gain)}) and normalised inputs change it by "
        f"{change['change']:+.2f} ({both_p(change)})."
    )


def claims_brief(runs: dict[str, list]) -> str | None:
    """The benchmark's other paired tests (:data:`CLAIMS` after the first, the gain the glance
    opens with) in one line, then how many of all the tested pairs lie below 0.05, uncorrected
    and with Holm's correction; None while fewer than two pairs are tested."""
    parts, pvalues, n = [], [], None
    for i, (a, b, _) in enumerate(CLAIMS):
        if not runs[a] or not runs[b]:
            continue
        t = paired_test(runs[a], runs[b])
        pvalues.append(t["p"])
        n = t["n"]
        if i:
            waiting = waiting_for({a: runs[a], b: runs[b]})
            pending = f"; preliminary, missing {waiting}" if waiting else ""
            parts.append(f"{a} − {b} {t['mean_diff']:+.2f} ({both_p(t)}{pending})")
    if len(pvalues) < 2:
        return None
    raw, kept = holm_counts(pvalues)
    tests = f"{len(pvalues)} t-tests" + (
        ", the gain above included" if len(parts) < len(pvalues) else ""
    )
    return (
        f"The other paired tests over the {n} test scans, `stored` inputs: {'; '.join(parts)}. "
        f"Of these {tests}, {raw} {'lies' if raw == 1 else 'lie'} below 0.05 uncorrected, {kept} "
        "with Holm's correction."
    )


def volume_line(volume: dict[str, list]) -> str | None:
    """With `volume` inputs, the rows that also learn from unlabeled scans against the
    16-labeled V-Net, by their means over seeds; None until the V-Net and one of them have runs."""
    if not volume.get(LOWER):
        return None
    lower = aggregate(volume[LOWER], "dice", 100.0)["seeds_mean"]
    semi = {
        label: aggregate(found, "dice", 100.0)["seeds_mean"]
        for label, found in volume.items()
        if found and METHODS[found[0].method].uses_unlabeled
    }
    if not semi:
        return None
    means = ", ".join(f"{label} {mean:.2f}" for label, mean in semi.items())
    above = [label for label, mean in semi.items() if mean > lower]
    if above:
        verb = "scores" if len(above) == 1 else "score"
        return (
            f"With `volume` inputs, {' and '.join(above)} {verb} above the 16-labeled V-Net "
            f"({lower:.2f} Dice %; {means})."
        )
    return (
        f"With `volume` inputs, no row that also learns from the unlabeled scans scores above "
        f"the 16-labeled V-Net ({lower:.2f} Dice %; {means}): once the inputs are normalised, "
        "the unlabeled scans add no Dice on the mean."
    )


def _cell(runs: list) -> str:
    """Dice % mean ± std over seeds, naming the planned seeds still missing; "queued" for none."""
    if not runs:
        return "queued"
    agg = aggregate(runs, "dice", 100.0)
    missing = missing_seeds(runs)
    text = pm(agg["seeds_mean"], agg["seeds_std"])
    return f"{text} (missing {seeds_text(missing)})" if missing else text


def glance_lines(
    runs: dict[str, list], volume: dict[str, list], study, lower_twins: list
) -> list[str]:
    """A short table of every row with a run, with the release's stored intensities and with
    re-z-scored ones (``volume``, the study's rows only) beside the paper's Dice; then in short
    (each says what it waits for) DTML's gain and its change with normalised inputs, the same with
    the stored lower bound's keys trained again on another machine (``lower_twins``, when there
    are any), the benchmark's other tests (:func:`claims_brief`), mean teacher's gain
    (:func:`volume_line` after it) and the rows with no run yet."""
    paper = paper_dice()
    lines = [
        "| row | ours, `stored` inputs | ours, `volume` inputs (re-z-scored) | paper |",
        "| --- | --- | --- | --- |",
    ]
    queued = []
    for _, label, name in ROWS:
        if not runs[label] and not volume.get(label):
            queued.append(name.split(" (")[0])
            continue
        rescaled = _cell(volume[label]) if label in volume else "not in the study"
        lines.append(
            f"| {name} | {_cell(runs[label])} | {rescaled} | "
            f"{num(paper.get(label_in_paper(label)), missing='–')} |"
        )
    bullets = [gain_brief(study.tests), change_brief(study.change, study.groups)]
    again = retrained_brief(runs, study, lower_twins) if lower_twins else None
    if again:
        bullets.append(again)
    others = claims_brief(runs)
    bullets += [others] if others else []
    bullets.append(peer_brief(study.peer_tests, study.peer_change))
    normalised = volume_line(volume)
    bullets += [normalised] if normalised else []
    if queued:
        bullets.append(f"Not in the table, no run yet: {'; '.join(queued)}.")  # names hold commas
    return [*lines, "", *(f"- {b}" for b in bullets)]


def build_glance(out: Path) -> str:
    """The README's opening block: :func:`glance_lines` from the committed runs of ``out``."""
    records = committed_records(out)
    study = normalization_study(records, read_scale(out.parent / SCALE_FILE))
    runs = runs_by_row(out)
    twins = retrained(runs[LOWER], out.parent)
    lines = glance_lines(runs, study_runs(records, "volume"), study, twins)
    return "\n".join(lines) + "\n"
