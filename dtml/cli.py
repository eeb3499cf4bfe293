"""Command line: ``python -m dtml train|evaluate|notebooks|publish|sweep|bench|cache ...``.

Errors a user can act on (a bad option or ``--set`` value, a missing or corrupt file, a missing data
folder, a folder that is not a run, a run another process is training) end the command with ONE
line on stderr, ``dtml: error: <message naming the file, case or key>``, and exit status 2.
``--debug`` anywhere on the command line shows the full traceback instead. A training run stopped
by SIGTERM checkpoints its current step, prints ``dtml: stopped: ...`` and exits with status 143.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

from dtml.config import PROFILES, TrainConfig, load_profile, parse_overrides

CONFIG_FIELDS = {f.name: str(f.type) for f in fields(TrainConfig)}

DEBUG_FLAG = "--debug"
USAGE_EXIT = 2
# As a process ended by SIGTERM: the run stopped, its checkpoint resumes it.
STOPPED_EXIT = 128 + signal.SIGTERM
METHOD_NAMES = "supervised|sdf_only|dtml|dtml_labeled|mean_teacher|ua_mt|dtc"


class UsageError(ValueError):
    """A command-line mistake found by argparse (unknown option, bad choice, bad number)."""


# --- sub-commands --------------------------------------------------------------------------------


def check_overrides(pairs: list[str]) -> dict:
    """``--set KEY=VALUE`` pairs as config fields; a bad pair is an error that names it."""
    out = {}
    for pair in pairs:
        try:
            out.update(parse_overrides([pair]))
        except ValueError as error:  # unknown key, no '=', or a value of the wrong type
            key = pair.split("=", 1)[0]
            if "=" in pair and key in CONFIG_FIELDS:
                expected = CONFIG_FIELDS[key]
                raise ValueError(
                    f"--set {pair}: config key '{key}' expects {expected} ({error})"
                ) from error
            raise ValueError(f"--set {pair}: {error}") from error
    return out


def _check_data_folder(data: str | None) -> None:
    if data is not None and not Path(data).expanduser().is_dir():
        raise FileNotFoundError(f"--data {data}: no such data folder")


def _set_values(argv: list[str]) -> list[str]:
    """The values of every ``--set VALUE`` / ``--set=VALUE`` in ``argv``."""
    values = []
    for i, arg in enumerate(argv):
        if arg == "--set" and i + 1 < len(argv):
            values.append(argv[i + 1])
        elif arg.startswith("--set="):
            values.append(arg.removeprefix("--set="))
    return values


def _train(args: argparse.Namespace) -> None:
    overrides = check_overrides(args.set or [])
    _check_data_folder(args.data)
    for key in ("method", "seed", "data", "fidelity", "runs_dir"):
        value = getattr(args, key)
        if value is not None:
            overrides[key] = value
    try:
        cfg = load_profile(args.profile, **overrides)
    except (TypeError, ValueError) as error:  # TrainConfig.__post_init__ names the field
        raise ValueError(f"invalid config (profile {args.profile} + options): {error}") from error
    from dtml.train import train  # torch: imported once the options are known to be valid

    out = train(cfg, progress=not args.quiet)
    print(out)


def _evaluate(args: argparse.Namespace) -> None:
    _check_data_folder(args.data)
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


def _notebooks(rest: list[str]) -> None:
    from dtml.notebooks import main as notebooks_main

    code = notebooks_main(rest)
    if code:
        raise SystemExit(code)


def _bench(rest: list[str]) -> None:
    from dtml.bench.__main__ import main as bench_main

    bench_main(rest)


def _publish(rest: list[str]) -> None:
    from dtml.publish import main as publish_main

    publish_main(rest)


def _sweep(rest: list[str]) -> None:
    from dtml.sweep import main as sweep_main

    check_overrides(_set_values(rest))  # a bad --set fails here, naming the pair
    code = sweep_main(rest)
    if code:
        raise SystemExit(code)


def _cache(rest: list[str]) -> None:
    if rest[:1] in (["-h"], ["--help"]):
        print("usage: dtml cache export [options]   (options: dtml cache export --help)")
        return
    if rest[:1] != ["export"]:
        action = repr(rest[0]) if rest else "no action"
        raise UsageError(
            f"dtml cache: {action} given, expected 'export' (dtml cache export --help)"
        )
    try:
        from dtml.data.export import main as export_main
    except ModuleNotFoundError as error:
        if error.name != "dtml.data.export":
            raise
        raise UsageError("dtml cache export: not available in this version") from error
    code = export_main(rest[1:])
    if code:
        raise SystemExit(code)


# these sub-commands own their options: everything after the name goes straight to them
PASS_THROUGH = {
    "notebooks": _notebooks,
    "bench": _bench,
    "publish": _publish,
    "sweep": _sweep,
    "cache": _cache,
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="dtml",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(DEBUG_FLAG, action="store_true", help="show the traceback of an error")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    t = sub.add_parser("train", help="train one configuration (resumes if interrupted)")
    t.add_argument(
        "--profile", choices=PROFILES, default="cpu", help="config profile (default: cpu)"
    )
    t.add_argument("--method", help=f"training method: {METHOD_NAMES} (default: the profile's)")
    t.add_argument("--seed", type=int, help="random seed (part of the run key)")
    t.add_argument(
        "--data", help="LA data root or cache export (default: $DTML_DATA, else the phantom)"
    )
    t.add_argument(
        "--fidelity",
        choices=("official", "paper"),
        help="follow the authors' code (official) or the paper as printed",
    )
    t.add_argument(
        "--runs-dir", dest="runs_dir", help="folder of run folders (default: runs; not in the key)"
    )
    t.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a config field, e.g. --set iterations=100 (repeatable)",
    )
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(func=_train)

    e = sub.add_parser("evaluate", help="evaluate a finished run folder")
    e.add_argument("run", help="run folder, e.g. runs/dtml-<key>")
    e.add_argument(
        "--data", help="data root or cache export (default: the run's data, $DTML_DATA or phantom)"
    )
    e.add_argument(
        "--split",
        choices=("dev", "test"),
        default="dev",
        help="dev: the validation cases; test: test.list (default: dev)",
    )
    e.add_argument(
        "--mode",
        choices=("seg", "sdf", "ensemble"),
        help="M_s output, M_d's mask, or their mean (default: the method's)",
    )
    e.add_argument("--device", default="cpu", help="torch device for inference (default: cpu)")
    e.add_argument("--no-lcc", action="store_true", help="keep all components, not the largest")
    e.add_argument("--force", action="store_true", help="re-evaluate even if a summary is cached")
    e.add_argument("--save-nifti", metavar="DIR", help="also write prediction + probability NIfTIs")
    e.set_defaults(func=_evaluate)

    # listed for --help; their options are parsed by their own modules (see PASS_THROUGH)
    sub.add_parser("notebooks", help="execute the notebooks with papermill (see dtml.notebooks)")
    sub.add_parser("publish", help="export finished runs + tables to results/ (see dtml.publish)")
    sub.add_parser("sweep", help="run a plan of rows x seeds (see dtml.plan, dtml.sweep, plans/)")
    sub.add_parser("bench", help="benchmarks: train-step | inference | sdf")
    sub.add_parser(
        "cache",
        help="cache export: a portable training cache for another machine (dtml.data.export)",
    )
    return p


# --- errors --------------------------------------------------------------------------------------


def _is_user_error(error: BaseException) -> bool:
    if isinstance(error, ValueError | KeyError | OSError):
        return True
    return _is_train_error(error, "RunLocked")


def _is_train_error(error: BaseException, name: str) -> bool:
    """Whether ``error`` is ``dtml.train.<name>``; it can only come from an imported dtml.train,
    so there is no torch import just to check."""
    train_module = sys.modules.get("dtml.train")
    return train_module is not None and isinstance(error, getattr(train_module, name))


def error_line(error: BaseException) -> str:
    """``dtml: error: <message>`` on one line (a KeyError says which key was missing)."""
    if isinstance(error, KeyError) and len(error.args) == 1:
        text = f"missing key {error.args[0]!r}"
    else:
        text = str(error) or type(error).__name__
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return "dtml: error: " + " | ".join(lines)


@contextlib.contextmanager
def _one_line_usage_errors() -> Iterator[None]:
    """argparse errors (here and in the sub-commands' own parsers) raise UsageError, not exit."""
    original = argparse.ArgumentParser.error

    def error(self: argparse.ArgumentParser, message: str):
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")

    argparse.ArgumentParser.error = error
    try:
        yield
    finally:
        argparse.ArgumentParser.error = original


def run(argv: list[str]) -> None:
    """Dispatch ``argv`` (without ``--debug``); errors propagate."""
    if argv and argv[0] in PASS_THROUGH:
        PASS_THROUGH[argv[0]](argv[1:])
        return
    args = build_parser().parse_args(argv)
    args.func(args)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = DEBUG_FLAG in argv
    argv = [a for a in argv if a != DEBUG_FLAG]
    if debug:
        run(argv)
        return
    try:
        with _one_line_usage_errors():
            run(argv)
    except SystemExit as stop:
        if isinstance(stop.code, str):  # SystemExit("message"): a usage message of a sub-command
            print(error_line(ValueError(stop.code)), file=sys.stderr)
            raise SystemExit(USAGE_EXIT) from None
        raise
    except Exception as error:
        # not an error: the run was told to stop and can resume
        if _is_train_error(error, "TrainingStopped"):
            print(f"dtml: stopped: {error}", file=sys.stderr)
            raise SystemExit(STOPPED_EXIT) from None
        if not _is_user_error(error):
            raise
        print(error_line(error), file=sys.stderr)
        raise SystemExit(USAGE_EXIT) from None


if __name__ == "__main__":
    main()
