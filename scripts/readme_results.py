"""Write the README's real-data results (tables + findings) from the committed results only.

    python scripts/readme_results.py [--write README.md]

Four blocks, each computed from its committed results folder (tables, per-case CSVs, provenance):
the opening answer (``results/cpu_paper``, between ``<!-- results-glance:start -->`` and
``<!-- results-glance:end -->``), the paper's benchmark on the 20 test scans (``results/cpu_paper``, between
``<!-- results-test:start -->`` and ``<!-- results-test:end -->``), the input-normalisation study on
the same scans (``results/cpu_paper``, between ``<!-- results-normalization:start -->`` and
``<!-- results-normalization:end -->``) and the dev-split study (``results/cpu_dev``, between
``<!-- results:start -->`` and ``<!-- results:end -->``). Rows without runs say so.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from pathlib import Path

from hardware_check import REFERENCES, pairs  # scripts/ is on sys.path when this script runs

from dtml.experiments import rows_by_label
from dtml.report import (
    committed_records,
    hardware_text,
    matches,
    per_case,
    short_hardware,
)
from dtml.report.hardware import machines_text, run_hardware, speed_text, wall_text
from dtml.report.sentences import paired_sentences, pm

SHOW = [  # (table, paper label, README name)
    (3, "V-Net (lower bound)", "V-Net lower bound (16 labeled) = M_s only"),
    (2, "M_d only", "M_d only (16 labeled)"),
    (2, "DTML (labeled only)", "DTML, labeled only (Table 2)"),
    (3, "DTML", "DTML (16 labeled + 48 unlabeled)"),
    (3, "DTC", "DTC (16 + 48)"),
    (3, "UA-MT", "UA-MT (16 + 48)"),
    (3, "Mean teacher", "Mean teacher (16 + 48; not a paper row)"),
    (3, "V-Net (upper bound)", "V-Net upper bound (64 labeled; paper: 80)"),
]
# a validation case is "hard" when the lower bound's mean Dice there is below this
HARD_BELOW = 50.0
START, END = "<!-- results:start -->", "<!-- results:end -->"
TEST_START, TEST_END = "<!-- results-test:start -->", "<!-- results-test:end -->"
NORM_START = "<!-- results-normalization:start -->"
NORM_END = "<!-- results-normalization:end -->"
GLANCE_START, GLANCE_END = "<!-- results-glance:start -->", "<!-- results-glance:end -->"


def _short(hw: str) -> str:
    return short_hardware(hw).split(",")[0]  # "H200" or "CPU": the column has no room for threads


def _contrast(root: Path, hard: list[str], lower) -> str:
    """Image intensity std (after the release's z-scoring) of the hard scans vs all 80 scans."""
    from dtml.data.la import read_case, read_list
    from dtml.data.splits import make_split

    ids = read_list(root)
    std = {c: float(read_case(root, c, with_label=False).image.std()) for c in ids}
    cfg = lower[0].config
    labeled = make_split(cfg["split"], ids, (), cfg["labeled_count"], cfg["val_count"]).labeled
    return (
        "Image intensity std as released (low = little contrast) of the hard scans: "
        + ", ".join(f"{c[:8]}… {std[c]:.2f}" for c in hard)
        + f"; median over the 80 training scans {statistics.median(std.values()):.2f}, lowest "
        f"of the {len(labeled)} labeled scans {min(std[c] for c in labeled):.2f} "
        "(from `$DTML_DATA`)."
    )


def hardware_line(results: Path, split: str, tail: str) -> str | None:
    """The bullet on run keys of ``split`` trained on two machines (``results/hardware_check``)."""
    check = results / "hardware_check"
    if not (check / "runs").is_dir():
        return None
    references = [r for name in REFERENCES for r in committed_records(results / name)]
    described = []
    for pair in pairs(check, references):
        a, b, (mean_a, mean_b) = pair["a"], pair["b"], pair["means"]
        if b.eval["split"] != split:
            continue
        order = (b.method, b.config["labeled_count"], b.seed)
        described.append(
            (
                order,
                f"{b.method} ({b.config['labeled_count']} labeled) seed {b.seed}: "
                f"{mean_a:.2f} on {machines_text(a.train, _short)} ({speed_text(a.train)} s/it) vs "
                f"{mean_b:.2f} on {machines_text(b.train, _short)} ({speed_text(b.train)} s/it; "
                f"largest per-case gap {pair['largest_gap']:.1f})",
            )
        )
    if not described:
        return None
    return (
        "The same run key (configuration and seed) trained on two machines "
        f"([`results/{check.name}`](results/{check.name}/README.md)): "  # README-relative
        + "; ".join(text for _, text in sorted(described))  # by method, labeled, seed
        + ". "
        + tail
    )


def build_dev(out: Path) -> str:
    records = [r for r in committed_records(out) if r.evaluated]
    rows = rows_by_label((2, 3))
    runs = {label: [r for r in records if matches(rows[label], r)] for _, label, _ in SHOW}
    published = {  # what publish computed (a dev table: no paper columns)
        r["label"]: r
        for n in (2, 3)
        for r in json.loads((out / f"table{n}.json").read_text())["rows"]
    }
    # no paper column: the paper scored other scans (the test split) with 64 unlabeled
    lines = [
        "| row (dev split) | seeds | Dice % (over seeds) | Dice % (over cases) | 95HD vox "
        "| trained on: wall time / run (s/it) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for _, label, name in SHOW:
        row = published[label]
        if row["status"] != "ok":
            lines.append(f"| {name} | – | {row['status']} | | | |")
            continue
        walls = ", ".join(
            wall_text(r.seed, r.train) for r in sorted(runs[label], key=lambda r: r.seed)
        )
        lines.append(
            f"| {name} | {row['n_seeds']} | {pm(row['dice_seeds_mean'], row['dice_seeds_std'])} | "
            f"{pm(row['dice_cases_mean'], row['dice_cases_std'])} | "
            f"{row['hd95_vox_seeds_mean']:.2f} | {walls} |"
        )

    lower = runs["V-Net (lower bound)"]
    table2 = "Table 2's claim is p < 0.05"
    pairs = [  # (A, B, what B is called here, the paper's claim)
        ("DTML", "V-Net (lower bound)", "the 16-labeled V-Net", ""),
        ("DTML", "DTML (labeled only)", "DTML without unlabeled scans", ""),
        ("DTML (labeled only)", "V-Net (lower bound)", "M_s only", table2),
        ("DTML (labeled only)", "M_d only", "M_d only", table2),
        ("UA-MT", "DTML", "DTML", ""),
        ("Mean teacher", "DTML", "DTML", ""),
        ("DTC", "DTML", "DTML", ""),
    ]
    bullets, _ = paired_sentences(runs, pairs, "validation scans")

    if lower:
        base = per_case(lower)
        hard = sorted(c for c, v in base.items() if 100 * v < HARD_BELOW)
        shown = [(name, runs[label]) for _, label, name in SHOW if runs[label]]
        per = {name: per_case(recs) for name, recs in shown}
        cells = "; ".join(
            f"{name.split(' (')[0]} " + " / ".join(f"{100 * per[name][c]:.1f}" for c in hard)
            for name, _ in shown
        )
        bullets.append(
            f"{len(hard)} of the {len(base)} validation scans "
            f"({', '.join(c[:8] + '…' for c in hard)}) are "
            f"hard: the lower bound's mean Dice there is below {HARD_BELOW:.0f}. Mean Dice % on "
            f"them, in that order: {cells}. They make most of the spread over cases and of the "
            "gaps between rows."
        )
        others = {name: [100 * v for c, v in per[name].items() if c not in hard] for name in per}
        rest = "; ".join(
            f"{name.split(' (')[0]} {statistics.mean(others[name]):.1f}"
            f" (median {statistics.median(others[name]):.1f})"
            for name, _ in shown
        )
        bullets.append(f"Mean Dice % over the other {len(base) - len(hard)} scans: {rest}.")
        if os.environ.get("DTML_DATA"):
            bullets.append(_contrast(Path(os.environ["DTML_DATA"]), hard, lower))
    same_key = hardware_line(
        out.parent,
        "dev",
        "A change of machine alone moves a run by this much, mostly on the hard scans: read the "
        "spread over seeds in the table with that in mind.",
    )
    if same_key:
        bullets.append(same_key)
    hardware = sorted({hardware_text(h) for r in records for h in run_hardware(r.train)})
    text = (
        "\n".join(lines) + "\n\nComputed from the committed runs by `scripts/readme_results.py`:\n"
    )
    text += "".join(f"- {b}\n" for b in bullets)
    text += f"- Hardware of the runs in this table: {'; '.join(hardware)}.\n"
    return text


def replace_block(readme: str, start: str, end: str, text: str, name: str) -> str:
    if start not in readme or end not in readme:
        raise SystemExit(f"{name}: no {start} ... {end} block to replace")
    head, rest = readme.split(start, 1)
    return head + start + "\n" + text + end + rest.split(end, 1)[1]


def main(argv: list[str]) -> None:
    from readme_glance import build_glance  # scripts/ is on sys.path
    from readme_test_results import build_normalization, build_test

    write = Path(argv[argv.index("--write") + 1]) if "--write" in argv else None
    glance = build_glance(Path("results/cpu_paper"))
    test = build_test(Path("results/cpu_paper"))
    norm = build_normalization(Path("results/cpu_paper"))
    dev = build_dev(Path("results/cpu_dev"))
    if write is None:
        print(glance + "\n" + test + "\n" + norm + "\n" + dev)
        return
    readme = replace_block(write.read_text(), GLANCE_START, GLANCE_END, glance, str(write))
    readme = replace_block(readme, TEST_START, TEST_END, test, str(write))
    readme = replace_block(readme, NORM_START, NORM_END, norm, str(write))
    write.write_text(replace_block(readme, START, END, dev, str(write)))


if __name__ == "__main__":
    main(sys.argv[1:])
