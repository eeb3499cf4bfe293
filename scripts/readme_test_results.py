"""The README's test-split blocks (``results/cpu_paper``): the paper's benchmark on the 20 test
scans (:func:`build_test`) and the input-normalisation study (:func:`build_normalization`); the
opening answer is ``readme_glance``'s.

Called by ``scripts/readme_results.py``. Only runs with the release's stored intensities
(``normalization: stored``) enter the benchmark's table; the normalisation study puts them beside
the ``volume`` runs. Every number is computed from the committed runs; rows and tests without runs
say what they wait for.
"""

from __future__ import annotations

from pathlib import Path

from readme_results import hardware_line  # scripts/ is on sys.path

from dtml.config import NORMALIZATIONS
from dtml.experiments import paper_table, rows_by_label
from dtml.report import (
    aggregate,
    committed_records,
    hardware_text,
    matches,
    per_case,
)
from dtml.report.hardware import run_hardware, wall_text
from dtml.report.intensity import SCALE_FILE, low_scale_sentence, read_scale, scale_groups
from dtml.report.normalization import (
    dice_by_case,
    gain_change,
    normalization_study,
    runs_done,
    study_row,
    study_runs,
)
from dtml.report.normalization_report import (
    change_sentence,
    family_sentence,
    gain_bullets,
    peer_bullets,
    study_table,
)
from dtml.report.notes import speed_spread
from dtml.report.sentences import num, paired_sentences, pm
from dtml.report.stats import PLANNED_SEEDS

ROWS = [  # (table, label, README name) in the benchmark's queue order (plans/benchmark.yaml)
    (3, "V-Net (lower bound)", "V-Net lower bound (16 labeled) = M_s only"),
    (3, "DTML", "DTML (16 labeled + 64 unlabeled)"),
    (3, "V-Net (upper bound)", "V-Net upper bound (80 labeled)"),
    (3, "Mean teacher", "Mean teacher (16 + 64; not a paper row)"),
    (3, "UA-MT", "UA-MT (16 + 64)"),
    (3, "DTC", "DTC (16 + 64)"),
    (2, "M_d only", "M_d only (16 labeled)"),
    (2, "DTML (labeled only)", "DTML, labeled only (Table 2)"),
    (1, "DTML (L_seg/L_dis)", "DTML, M_d trained with L_dis (Table 1)"),
    (1, "DTML (L_seg/L_dis+L_mask)", "DTML, M_d trained with L_dis + L_mask (Table 1)"),
]
CLAIMS = [  # (A, B, what the paper claims of A vs B)
    ("DTML", "V-Net (lower bound)", "Table 3: unlabeled scans help, +4.09"),
    ("DTML", "DTML (labeled only)", "Tables 2-3: the unlabeled scans, +0.95"),
    ("DTML (labeled only)", "V-Net (lower bound)", "Table 2: p < 0.05 vs M_s only"),
    ("DTML (labeled only)", "M_d only", "Table 2: p < 0.05 vs M_d only"),
    ("DTML", "Mean teacher", "not in the paper"),
    ("DTML", "UA-MT", "Table 3: +1.24"),
    ("DTML", "DTC", "Table 3: +0.70"),
    ("DTML", "DTML (L_seg/L_dis)", "Table 1: +0.40"),
    ("DTML", "DTML (L_seg/L_dis+L_mask)", "Table 1: +0.23"),
]


def paper_dice() -> dict[str, float]:
    """The paper's Dice % of every row of its Tables 1-3, by label."""
    return {r["method"]: r["dice"] for n in (1, 2, 3) for r in paper_table(n)}


def label_in_paper(label: str) -> str:
    """A row's label in the paper's tables: DTML is Table 1's L_seg/L_mask row there too."""
    return "DTML (L_seg/L_mask)" if label == "DTML" else label


def runs_by_row(out: Path) -> dict[str, list]:
    """Evaluated stored-intensity test-split runs of each README row."""
    records = [
        r
        for r in committed_records(out)
        if r.evaluated and r.config.get("normalization", "stored") == "stored"
    ]
    rows = rows_by_label()
    found = {label: [r for r in records if matches(rows[label], r)] for _, label, _ in ROWS}
    # Table 1's L_mask row is DTML itself: the dtml row must not also take the L_dis variants
    found["DTML"] = [r for r in found["DTML"] if r.config.get("md_loss", "mask") == "mask"]
    return found


def table_lines(runs: dict[str, list]) -> list[str]:
    paper = paper_dice()
    lines = [
        "| row | seeds | ours Dice % (over seeds) | ours Dice % (over the 20 scans × seeds) "
        "| paper Dice % | ours - paper | trained on: wall time / run (s/it) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for _, label, name in ROWS:
        p = paper.get(label_in_paper(label))
        found = sorted(runs[label], key=lambda r: r.seed)
        seeds = f"{len(found)} of {len(PLANNED_SEEDS)}"
        if not found:
            lines.append(f"| {name} | {seeds} | queued | | {num(p, missing='–')} | | |")
            continue
        agg = aggregate(found, "dice", 100.0)
        gap = num(None if p is None else agg["seeds_mean"] - p, sign=True, missing="–")
        walls = ", ".join(wall_text(r.seed, r.train) for r in found)
        lines.append(
            f"| {name} | {seeds} | {pm(agg['seeds_mean'], agg['seeds_std'])} | "
            f"{pm(agg['cases_mean'], agg['cases_std'])} | {num(p, missing='–')} | {gap} "
            f"| {walls} |"
        )
    return lines


def claim_lines(runs: dict[str, list]) -> list[str]:
    """One sentence per paper claim with runs on both sides, one for those still waiting and,
    with several tests, how many survive Holm's correction."""
    pairs = [(a, b, b, claim) for a, b, claim in CLAIMS]
    out, waiting = paired_sentences(runs, pairs, "test scans")
    if waiting:
        out.append(f"Not tested yet, waiting for their runs: {'; '.join(waiting)}.")
    return out


def low_scale_line(runs: dict[str, list], scale_csv: Path) -> str | None:
    """Per-scan Dice of each row on the test scans whose stored intensity scale is below that of
    every labeled scan (:mod:`dtml.report.intensity`; results/intensity_scale.csv, notebook 00)."""
    if not scale_csv.is_file():
        return None
    groups = scale_groups(read_scale(scale_csv))
    shown = [(name, per_case(runs[label])) for _, label, name in ROWS if runs[label]]
    if not groups.low or not shown:
        return None
    cells = "; ".join(
        f"{name.split(' (')[0]} " + " / ".join(f"{100 * d[c]:.1f}" for c in groups.low)
        for name, d in shown
    )
    return f"{low_scale_sentence(groups)} Dice % on them (mean over seeds), in that order: {cells}."


def retrained(records: list, results: Path) -> list:
    """The runs of ``results/hardware_check`` with the key of one of ``records``: the same
    configurations and seeds trained again on another machine, by seed."""
    names = {r.name for r in records}
    if not names or not (results / "hardware_check" / "runs").is_dir():
        return []
    found = committed_records(results / "hardware_check")
    return sorted((r for r in found if r.evaluated and r.name in names), key=lambda r: r.seed)


def retrained_text(label: str, twins: list, groups) -> str:
    """``<label> retrained (seeds 1, 2 on <hardware>, s/it ...): Dice ...``, with the mean on the
    low-scale and the other test scans (``groups``: :func:`dtml.report.intensity.scale_groups`)."""
    row = study_row(label, "stored", twins, groups)
    walls = ", ".join(wall_text(r.seed, r.train) for r in twins)
    return (
        f"{label} retrained (the same keys trained again: {walls}; "
        "[`results/hardware_check`](results/hardware_check/README.md)): "
        f"{pm(row['dice_seeds_mean'], row['dice_seeds_std'])} Dice %"
        f"{' over seeds' * (len(twins) > 1)}, {row['dice_low_scale']:.2f} on the "
        f"{groups.low_text}, {row['dice_other']:.2f} on the other "
        f"{len(groups.other)}"
    )


def retrained_claim_line(runs: dict[str, list], results: Path) -> str | None:
    """The first claim (DTML vs the lower bound) again, with the lower bound's retrained runs in
    place of its committed ones (their hardware: the retrains' provenance)."""
    a, b, _ = CLAIMS[0]
    twins = retrained(runs[b], results)
    if not twins or not runs[a]:
        return None
    groups = scale_groups(read_scale(results / SCALE_FILE))
    name = f"{b} retrained"
    (again,), _ = paired_sentences({a: runs[a], name: twins}, [(a, name, name, "")], "test scans")
    return f"{retrained_text(b, twins, groups)}. {again}"


def speed_line(runs: dict[str, list], subject: str = "these runs") -> str | None:
    """Runs of one method whose training speeds differ more than 2x under one hardware name
    (:func:`dtml.report.notes.speed_spread`): more than one machine."""
    parts = speed_spread(
        {**r.train, "method": r.method, "label": f"{label} s{r.seed}"}
        for label, records in runs.items()
        for r in records
    )
    if not parts:
        return None
    return (
        f"By their training speed (s/it), {subject} come from more than one machine: "
        + "; ".join(parts)
        + ". Wall times and speeds compare only between runs of one machine."
    )


def runs_done_text(done: int, planned: int) -> str:
    """How many of the plan's runs are committed; "queued" only while some are not."""
    rest = "the rest are queued in" if done < planned else "all planned in"
    return (
        f"{done} of {planned} runs done; {rest} [`plans/benchmark.yaml`](plans/benchmark.yaml) "
        "(`python -m dtml sweep`)."
    )


def build_test(out: Path) -> str:
    runs = runs_by_row(out)
    bullets = claim_lines(runs)
    low = low_scale_line(runs, out.parent / SCALE_FILE)
    if low:
        bullets.append(low)
    same_key = hardware_line(
        out.parent,
        "test",
        "Both are `AMD EPYC` CPUs, one with AVX2 only, one with AVX-512 (the s/it tell them "
        "apart). Their commits differ too, under one run key (which versions every change of "
        "training behaviour): a change of machine moves a run by this much.",
    )
    if same_key:
        bullets.append(same_key)
    again = retrained_claim_line(runs, out.parent)
    if again:
        bullets.append(again)
    done = sum(len(v) for v in runs.values())
    hardware = sorted(
        {hardware_text(h) for v in runs.values() for r in v for h in run_hardware(r.train)}
    )
    if hardware:
        bullets.append(f"Hardware of these runs: {'; '.join(hardware)}.")
    speeds = speed_line(runs)
    if speeds:
        bullets.append(speeds)
    text = "\n".join(table_lines(runs))
    text += f"\n\n{runs_done_text(done, len(PLANNED_SEEDS) * len(ROWS))} Computed from "
    text += "the committed runs by `scripts/readme_results.py`:\n"
    return text + "".join(f"- {b}\n" for b in bullets)


def retrained_change(study, twins: list, tests: list | None = None) -> dict:
    """The study's gain change (of ``tests``: DTML's by default, ``study.peer_tests`` for mean
    teacher's) with the `stored` lower bound's retrained runs (``twins``, :func:`retrained`) in
    place of the committed ones."""
    stored = {**study.case_dice["stored"], "V-Net (lower bound)": dice_by_case(twins)}
    found = study.tests if tests is None else tests
    return gain_change(found, {**study.case_dice, "stored": stored}, study.groups)


def retrained_change_line(study, twins: list, peer: bool = False) -> str:
    """The study's gain change (DTML's; mean teacher's with ``peer``) with the `stored` lower
    bound's retrained keys (``twins``, :func:`retrained`) in place of its committed runs; the
    twins' own row is in the benchmark's block, said once."""
    tests = study.peer_tests if peer else study.tests
    subject = f"{tests[0]['a']}'s gain change" if peer else "Gain change"
    head = (
        f"{subject} with the `stored` lower bound's retrained keys (their row: the benchmark's "
        "notes above) in place of its committed runs"
    )
    return change_sentence(retrained_change(study, twins, tests), study.groups, head)


def build_normalization(out: Path) -> str:
    """The normalisation study's block: its table; one sentence per gain test and gain change
    (``waiting for ...`` while runs are missing), DTML's then mean teacher's, each also with the
    `stored` lower bound's retrained keys where there are any; Holm's correction over the tests;
    and, when its runs come from two machines, which."""
    records = committed_records(out)
    study = normalization_study(records, read_scale(out.parent / SCALE_FILE))
    done, planned = runs_done(study)
    # the low-scale scans are listed once, in the benchmark's block above
    bullets = gain_bullets(study)
    stored_lower = study_runs(records, "stored")["V-Net (lower bound)"]
    twins = retrained(stored_lower, out.parent)
    if twins:  # the stored row on the machine of the retrains, beside the volume runs
        bullets.append(retrained_change_line(study, twins))
    bullets.extend(peer_bullets(study))
    if twins:  # mean teacher's change also rests on the stored lower bound of another machine
        bullets.append(retrained_change_line(study, twins, peer=True))
    family = family_sentence(study)
    bullets += [family] if family else []
    by_row = {
        f"{label} `{norm}`": found
        for norm in NORMALIZATIONS
        for label, found in study_runs(records, norm).items()
    }
    speeds = speed_line(by_row, "the study's runs")
    if speeds:  # a row compared across two CPUs also compares the CPUs (results/hardware_check)
        bullets.append(
            speeds
            + " A gain or a `stored` vs `volume` difference between runs of two machines also "
            "holds the change of CPU (how much one key moves with it: the same-key bullet above, "
            "[`results/hardware_check`](results/hardware_check/README.md))."
        )
    text = study_table(study)
    text += (
        f"\n{done} of {planned} runs done: the `stored` rows are the benchmark's runs above, the "
        "`volume` rows the stage `normalization-volume` of "
        "[`plans/benchmark.yaml`](plans/benchmark.yaml). Dice %: mean ± std over seeds; on the "
        "low-scale and the other scans, the mean of the per-scan Dice averaged over seeds. "
        "Computed from the committed runs by `scripts/readme_results.py`:\n"
    )
    return text + "".join(f"- {b}\n" for b in bullets)
