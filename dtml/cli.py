"""Command line: ``python -m dtml train|evaluate|notebooks|bench ...``."""

from __future__ import annotations

import argparse
import json
import sys

from dtml.config import PROFILES, load_profile, parse_overrides


def _train(args: argparse.Namespace) -> None:
    from dtml.train import train

    overrides = parse_overrides(args.set or [])
    for key in ("method", "seed", "data", "fidelity", "runs_dir"):
        value = getattr(args, key)
        if value is not None:
            overrides[key] = value
    cfg = load_profile(args.profile, **overrides)
    out = train(cfg, progress=not args.quiet)
    print(out)


def _evaluate(args: argparse.Namespace) -> None:
    from dtml.evaluate import evaluate_run

    summary = evaluate_run(
        args.run,
        args.data,
        args.split,
        args.mode,
        args.device,
        not args.no_lcc,
        args.force,
        args.save_nifti,
    )
    print(json.dumps(summary))


def _notebooks(args: argparse.Namespace) -> None:
    from dtml.notebooks import main as notebooks_main

    raise SystemExit(notebooks_main(args.rest))


def _bench(args: argparse.Namespace) -> None:
    from dtml.bench.__main__ import main as bench_main

    bench_main(args.rest)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dtml", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train one configuration (resumes if interrupted)")
    t.add_argument("--profile", choices=PROFILES, default="cpu")
    t.add_argument("--method", help="supervised|sdf_only|dtml|dtml_labeled|mean_teacher|ua_mt|dtc")
    t.add_argument("--seed", type=int)
    t.add_argument("--data", help="LA-style data root (default: $DTML_DATA, else the phantom)")
    t.add_argument("--fidelity", choices=("official", "paper"))
    t.add_argument("--runs-dir", dest="runs_dir")
    t.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config field")
    t.add_argument("--quiet", action="store_true")
    t.set_defaults(func=_train)

    e = sub.add_parser("evaluate", help="evaluate a finished run folder")
    e.add_argument("run")
    e.add_argument("--data")
    e.add_argument("--split", choices=("dev", "test"), default="dev")
    e.add_argument("--mode", choices=("seg", "sdf", "ensemble"))
    e.add_argument("--device", default="cpu")
    e.add_argument("--no-lcc", action="store_true")
    e.add_argument("--force", action="store_true")
    e.add_argument("--save-nifti", metavar="DIR", help="also write prediction + probability NIfTIs")
    e.set_defaults(func=_evaluate)

    n = sub.add_parser("notebooks", help="execute the notebooks with papermill")
    n.add_argument("rest", nargs=argparse.REMAINDER)
    n.set_defaults(func=_notebooks)

    sub.add_parser("publish", help="export finished runs + tables to results/ (see dtml.publish)")
    sub.add_parser("sweep", help="run a plan of rows x seeds (see dtml.sweep, plans/)")
    b = sub.add_parser("bench", help="benchmarks: train-step | inference | sdf")
    b.add_argument("rest", nargs=argparse.REMAINDER)
    b.set_defaults(func=_bench)
    return p


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    # these sub-commands own their options: hand everything after the name straight to them
    if argv and argv[0] in ("notebooks", "bench"):
        args = argparse.Namespace(rest=argv[1:])
        (_notebooks if argv[0] == "notebooks" else _bench)(args)
        return
    if argv and argv[0] == "sweep":
        from dtml.sweep import main as sweep_main

        raise SystemExit(sweep_main(argv[1:]))
    if argv and argv[0] == "publish":
        from dtml.publish import main as publish_main

        publish_main(argv[1:])
        return
    args = build_parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
