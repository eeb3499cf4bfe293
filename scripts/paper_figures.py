"""Real-data Figures 2-3 of the paper, drawn from the benchmark's own runs, as PNGs to commit.

    python scripts/paper_figures.py --runs runs --data DATA --set precision=fp32 --out figures/real

(defaults: ``--profile cpu --split paper --seed 1``; ``--set precision=fp32`` is the benchmark's,
see ``plans/benchmark.yaml``). The script finds the lower bound (V-Net on the labeled scans) and the
DTML run of that profile, split and seed in the run cache ``--runs`` by their run key
(``dtml.experiments.config_for``, as notebook 07 does), reads their evaluations (computed only when
missing), picks ONE evaluated scan by the rule declared up front in
``dtml.viz.figures.CASE_RULE`` (the lower-median DTML Dice; never the best case) or the scan given
by ``--case``, and writes to ``--out``:

    figure2.png      Fig. 2: image, ground truth, M_d's SDF, DisMask sigmoid(-k z), M_s output
    figure3_2d.png   Fig. 3 (2D): lower bound vs DTML vs ground truth, on the same slices
    figure3_3d.png   Fig. 3 (3D): the three surfaces (marching cubes, mm axes)
    provenance.json  run names and keys, commits, hardware, the case and its rule, the data
                     fingerprint, the command; no machine path

Everything is drawn on the data's original grid, where the evaluation scores (each run predicts on
its own grid; its maps are upsampled as ``dtml.evaluate`` does). Runs anywhere the package does
(CPU or GPU: ``--device``). Errors are one line on stderr with exit status 2 (``--debug``: the
traceback); a missing run names its key and the command that trains it.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

PROG = "paper_figures"
N_SLICES = 3  # axial slices in Figs. 2 and 3 (2D), unless --slices
SURFACE_MARGIN = 4  # voxels around the masks in the 3D panels


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", default="runs", help="the run cache: folder of run folders (runs)")
    p.add_argument(
        "--data", default=None, help="LA data root or export (default: $DTML_DATA, else phantom)"
    )
    p.add_argument("--profile", default="cpu", help="training profile of both runs (cpu)")
    p.add_argument("--split", default="paper", help="training split of both runs (paper)")
    p.add_argument("--seed", type=int, default=1, help="seed of both runs (1)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a config field of both runs beyond the profile, e.g. precision=fp32 (repeatable)",
    )
    p.add_argument("--out", default="figures/real", help="folder for the PNGs and provenance.json")
    p.add_argument("--case", default=None, help="draw this scan instead of the rule's choice")
    p.add_argument(
        "--slices", type=int, default=N_SLICES, help=f"axial slices in Figs. 2-3 ({N_SLICES})"
    )
    p.add_argument("--device", default="auto", help="torch device for inference (auto: cuda/cpu)")
    p.add_argument("--debug", action="store_true", help="show the traceback of an error")
    return p.parse_args(argv)


def train_command(label: str, args: argparse.Namespace, overrides: Mapping[str, Any]) -> str:
    """The ``python -m dtml train`` line that trains row ``label``'s run of this setting."""
    from dtml.experiments import TABLES

    row = next(r for r in TABLES[3] if r.label == label)
    sets = {"split": args.split, **dict(row.overrides), **overrides}
    words = ["python", "-m", "dtml", "train", "--profile", args.profile, "--method", row.method]
    words += ["--seed", str(args.seed), *(["--data", args.data] if args.data else [])]
    words += ["--runs-dir", args.runs]
    for key, value in sets.items():
        text = ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
        words += ["--set", f"{key}={text}"]
    return shlex.join(words)


def find_runs(args: argparse.Namespace, overrides: Mapping[str, Any]) -> dict[str, dict]:
    """{row label: run_rows record} of the lower bound and DTML, evaluated; ValueError naming the
    key and the training command of every run that has not finished."""
    from dtml.experiments import TABLES, run_rows
    from dtml.viz.figures import DTML, SUPERVISED

    rows = [r for r in TABLES[3] if r.label in (SUPERVISED, DTML)]
    extra = {"runs_dir": args.runs, "split": args.split, **overrides}
    records = run_rows(rows, args.profile, [args.seed], args.data, train_missing=False, **extra)
    missing = [
        f"{rec['label']} {Path(rec['run']).name}/final.pt is not in {args.runs} "
        f"(train it: {train_command(rec['label'], args, overrides)})"
        for rec in records
        if "eval" not in rec
    ]
    if missing:
        setting = f"'{args.profile}' profile, {args.split} split, seed {args.seed}"
        raise ValueError(f"no finished run for the {setting}: " + "; ".join(missing))
    return {rec["label"]: rec for rec in records}


def case_dice(run: str | Path) -> dict[str, float]:
    """{case: Dice} of a run's own evaluation (its ``cases.csv``, original grid)."""
    from dtml.report.records import read_run

    record = read_run(run)
    if not record.cases:
        raise ValueError(f"{run}: no evaluation (cases.csv) of the run's own split")
    return {str(c["case"]): float(c["dice"]) for c in record.cases}


def _title(what: str, args: argparse.Namespace, case_id: str, data_id: str, spacing) -> str:
    mm = "x".join(f"{s:.3g}" for s in spacing)
    return (
        f"{what} · '{args.profile}' profile, {args.split} split, seed {args.seed}\n"
        f"case {case_id} · data {data_id} · original grid ({mm} mm)"
    )


def render(
    shown: Mapping[str, Any],
    args: argparse.Namespace,
    case_id: str,
    data_id: str,
    k: float,
    out: Path,
) -> list[int]:
    """Draw the three PNGs into ``out``; returns the axial slices shown."""
    from dtml.viz.committed_figures import FIGURE_FILES
    from dtml.viz.figures import DTML, SUPERVISED, pick_slices, plot_comparison_2d, plot_figure2
    from dtml.viz.surfaces import plot_surfaces

    image, label, spacing = shown["image"], shown["label"], shown["spacing"]
    dtml, supervised = shown[DTML], shown[SUPERVISED]
    slices = pick_slices(label, args.slices)
    title = lambda what: _title(what, args, case_id, data_id, spacing)  # noqa: E731
    files = [out / name for name in FIGURE_FILES]
    plot_figure2(
        image,
        label,
        dtml["sdf"],
        dtml["sdf_prob"],
        dtml["seg_prob"],
        slices,
        k,
        title=title("Fig. 2, DTML"),
        save=files[0],
    )
    masks = {SUPERVISED: supervised["mask"], DTML: dtml["mask"]}
    plot_comparison_2d(image, label, masks, slices, title=title("Fig. 3 (2D)"), save=files[1])
    plot_surfaces(
        {**masks, "ground truth": label},
        spacing=spacing,
        step=max(1, round(max(label.shape) / 100)),  # coarser meshes for full-resolution scans
        title=title("Fig. 3 (3D)"),
        save=files[2],
        crop_margin=SURFACE_MARGIN,
    )
    return slices


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return value


def check_portable(value: Any, where: str = "provenance") -> None:
    """ValueError when a string in ``value`` is an absolute path (provenance must not name one)."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            check_portable(v, f"{where}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            check_portable(v, f"{where}[{i}]")
    elif isinstance(value, str) and any(
        word.startswith(("/", "~")) or word[1:3] in (":\\", ":/") for word in value.split()
    ):
        raise ValueError(f"{where}: {value!r} names a machine path")


def provenance(
    args: argparse.Namespace,
    overrides: Mapping[str, Any],
    records: Mapping[str, dict],
    case: Mapping[str, Any],
    device: str,
) -> dict[str, Any]:
    """What ``provenance.json`` records: the setting, both runs, the case and how it was drawn."""
    import torch

    from dtml.runs import git_commit, hardware
    from dtml.viz.committed_figures import FIGURE_FILES

    runs = {}
    for label, rec in records.items():
        train, ev = rec["train"], rec["eval"]
        runs[label] = {
            "name": Path(rec["run"]).name,
            "key": train.get("key"),
            "method": train.get("method"),
            "train_commit": train.get("commit"),
            "train_hardware": train.get("hardware"),
            "train_seconds": train.get("wall_seconds"),
            "eval_commit": ev.get("commit"),
            "eval_hardware": ev.get("hardware"),
            "eval_split": ev.get("split"),
            "mean_dice": ev["metrics_voxel"]["dice"]["mean"],
            "n_cases": ev.get("n_cases"),
        }
    command = ["python", "scripts/paper_figures.py", "--runs", "RUNS", "--data", "DATA"]
    command += ["--profile", args.profile, "--split", args.split, "--seed", str(args.seed)]
    command += [w for s in args.set for w in ("--set", s)]
    command += ["--case", args.case] if args.case else []
    command += ["--slices", str(args.slices)] if args.slices != N_SLICES else []
    return {
        "figures": list(FIGURE_FILES),
        "profile": args.profile,
        "split": args.split,
        "seed": args.seed,
        "set": {k: _jsonable(v) for k, v in overrides.items()},
        "data_id": case["data_id"],
        "real_data": case["real_data"],
        "case": {k: _jsonable(v) for k, v in case.items() if k not in ("data_id", "real_data")},
        "runs": runs,
        "rendered": {
            "commit": git_commit(),
            "hardware": hardware(device),
            "device": device,
            "torch": torch.__version__,
            "command": shlex.join(command),
        },
    }


def make_figures(args: argparse.Namespace) -> Path:
    """Find the runs, pick the case, draw the PNGs and write ``provenance.json``; returns it."""
    import torch

    from dtml.config import parse_overrides
    from dtml.data.paths import data_root_or_phantom
    from dtml.metrics import case_metrics
    from dtml.train import load_trained, pick_device
    from dtml.viz.committed_figures import PROVENANCE_FILE
    from dtml.viz.figures import DTML, case_outputs, pick_case

    overrides = parse_overrides(args.set)
    owned = sorted(set(overrides) & {"method", "seed", "split", "runs_dir", "data", "profile"})
    if owned:
        raise ValueError(f"--set {','.join(owned)}: given by the options of the same name")
    records = find_runs(args, overrides)
    root, is_real = data_root_or_phantom(args.data)
    device = pick_device(args.device)
    dice = {label: case_dice(rec["run"]) for label, rec in records.items()}
    case_id, rule = pick_case([{"case": c, "dice": d} for c, d in dice[DTML].items()], args.case)
    for label, scores in dice.items():
        if case_id not in scores:
            raise ValueError(f"{records[label]['run']}: case '{case_id}' is not in its evaluation")
    loaded = {label: load_trained(rec["run"], device=str(device)) for label, rec in records.items()}
    cfg = loaded[DTML][0]
    with torch.inference_mode():
        shown = case_outputs(root, case_id, loaded, device)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    slices = render(shown, args, case_id, cfg.data_id, cfg.k, out)
    label = shown["label"]
    case = {
        "id": case_id,
        "rule": rule,
        "dice": {name: dice[name][case_id] for name in records},
        "dice_drawn": {name: case_metrics(shown[name]["mask"], label).dice for name in records},
        "slices_z": slices,
        "shape": list(label.shape),
        "spacing_mm": [round(float(s), 4) for s in shown["spacing"]],
        "image": shown["image_source"],
        "data_id": cfg.data_id,
        "real_data": is_real,
    }
    prov = provenance(args, overrides, records, case, str(device))
    check_portable(prov)
    path = out / PROVENANCE_FILE
    path.write_text(json.dumps(prov, indent=2) + "\n")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """0 on success; 2 with one line on stderr on any error (``--debug``: traceback)."""
    args = parse_args(argv)
    try:
        path = make_figures(args)
    except (ValueError, FileNotFoundError, KeyError, OSError) as error:
        if args.debug:
            raise
        text = " | ".join(line.strip() for line in str(error).splitlines() if line.strip())
        print(f"{PROG}: error: {text}", file=sys.stderr)
        return 2
    print(f"{PROG}: wrote {', '.join(json.loads(path.read_text())['figures'])} and {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
