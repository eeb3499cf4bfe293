"""Execute the tutorial notebooks with papermill, in order, with per-profile parameters.

Notebooks are ``notebooks/NN_*.ipynb`` (sorted by name); parameters come from
``notebooks/params/<profile>.yaml``: a mapping from notebook stem (e.g. ``01_signed_distance_maps``)
to a mapping of parameters, plus an optional ``_all`` entry merged into every notebook (the
notebook's own entry wins). Only parameters a notebook declares in its ``parameters`` cell are
injected (papermill's inspection), so a shared or extra parameter never breaks a run.

The kernel: the default ``python3`` is pinned to *this* interpreter (``sys.executable``) through a
temporary kernel spec, so a ``python3`` kernel spec of another Python (user-wide, system, or on
``JUPYTER_PATH``) can never be picked up; the kernel also gets this repository on ``PYTHONPATH``.
Any other ``kernel_name`` is resolved by Jupyter as usual. Kernels talk to the runner over IPC
sockets in a private temporary folder (not TCP ports), so no port is opened and ipykernel prints no
"running over TCP without encryption" warning.

Running never changes tracked files: each notebook's ``figures_dir`` is ``<out_dir>/figures``
(git-ignored under ``notebooks/executed/``) unless ``refresh_figures`` asks to rewrite the
committed set, i.e. the profile's ``figures_dir`` (relative to ``notebooks/``) or ``figures/``.
Tests pass their own ``runs_dir`` so that they never train into the project's ``runs/``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
DEFAULT_KERNEL = "python3"
SHARED_KEY = "_all"
CELL_TIMEOUT_S = 1800
COMMITTED_FIGURES = "figures"  # the committed figure set, relative to the repository root
MAX_IPC_PATH = 90  # a Unix socket path is limited to ~107 bytes; longer: fall back to TCP


class NotebookExecutionError(RuntimeError):
    """A notebook failed; the message names the notebook, the cell and the error."""


def default_repo_root() -> Path:
    """The repository this package lives in (``<root>/dtml/notebooks.py``)."""
    return Path(__file__).resolve().parents[1]


def list_notebooks(repo_root: str | Path | None = None) -> list[str]:
    """File names of ``notebooks/NN_*.ipynb`` under ``repo_root``, in order."""
    folder = Path(repo_root or default_repo_root()) / "notebooks"
    return sorted(p.name for p in folder.glob(NOTEBOOK_GLOB))


def __getattr__(name: str) -> Any:
    # ``NOTEBOOKS`` is read from disk on every access, so notebooks added later are picked up.
    if name == "NOTEBOOKS":
        return list_notebooks()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_params(profile: str, repo_root: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """The parameter file ``notebooks/params/<profile>.yaml`` as {notebook stem or _all: params}."""
    folder = Path(repo_root or default_repo_root()) / "notebooks" / "params"
    path = folder / f"{profile}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in folder.glob("*.yaml"))
        raise ValueError(f"dtml.notebooks: no parameter profile {path} (known profiles: {known})")
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, Mapping) or not all(
        isinstance(v, Mapping) or v is None for v in data.values()
    ):
        raise ValueError(f"dtml.notebooks: {path} must map notebook stems to parameter mappings")
    return {str(k): dict(v or {}) for k, v in data.items()}


def resolve_names(names: Sequence[str] | None, repo_root: str | Path | None = None) -> list[str]:
    """Notebook file names for ``names`` given as "01", a stem, or a file name (None: all)."""
    available = list_notebooks(repo_root)
    if names is None:
        return available
    chosen = []
    for name in names:
        key = name.removesuffix(".ipynb")
        matches = [nb for nb in available if nb[:-6] == key or nb.split("_", 1)[0] == key]
        if len(matches) != 1:
            raise ValueError(
                f"dtml.notebooks: {name!r} matches {len(matches)} notebooks, need exactly one "
                f"(available: {available})"
            )
        chosen.append(matches[0])
    return chosen


def notebook_parameters(
    notebook: str | Path,
    profile_params: Mapping[str, Mapping[str, Any]],
    extra_parameters: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """(parameters to inject, names skipped because the notebook does not declare them).

    Precedence: ``_all`` < the notebook's own entry < ``extra_parameters``.
    """
    import papermill

    notebook = Path(notebook)
    stem = notebook.stem
    merged = {
        **profile_params.get(SHARED_KEY, {}),
        **profile_params.get(stem, {}),
        **(extra_parameters or {}),
    }
    declared = papermill.inspect_notebook(str(notebook))
    own_unknown = sorted(set(profile_params.get(stem, {})) - set(declared))
    if own_unknown:
        warnings.warn(
            f"dtml.notebooks: {notebook.name} does not declare {own_unknown}; not passed",
            stacklevel=2,
        )
    skipped = sorted(set(merged) - set(declared))
    return {k: v for k, v in merged.items() if k in declared}, skipped


def _write_kernel_spec(folder: Path, repo_root: Path) -> Path:
    """A kernel spec that starts ipykernel with this interpreter and this repository importable."""
    spec_dir = folder / "kernels" / DEFAULT_KERNEL
    spec_dir.mkdir(parents=True)
    python_path = os.pathsep.join(p for p in (str(repo_root), os.environ.get("PYTHONPATH")) if p)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"Python ({sys.executable})",
        "language": "python",
        "env": {"PYTHONPATH": python_path, "PYDEVD_DISABLE_FILE_VALIDATION": "1"},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
    return spec_dir.parent


def _transport(socket_dir: Path) -> dict[str, str]:
    """IPC sockets in ``socket_dir`` (no TCP port, no plain-text warning); TCP where impossible."""
    ip = socket_dir / f"ipc-{uuid.uuid4().hex[:8]}"
    if os.name == "nt" or len(str(ip)) > MAX_IPC_PATH:
        return {}
    return {"transport": "ipc", "ip": str(ip)}


def _kernel_manager(
    kernel_dirs: Path | None, kernel_name: str = DEFAULT_KERNEL, socket_dir: Path | None = None
):
    """A kernel manager for ``kernel_name``, from ``kernel_dirs`` only when given."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    kwargs: dict[str, Any] = {}
    if kernel_dirs is not None:
        specs = KernelSpecManager(kernel_dirs=[str(kernel_dirs)], ensure_native_kernel=False)
        kwargs["kernel_spec_manager"] = specs
    socket_dir = socket_dir or (kernel_dirs.parent if kernel_dirs is not None else None)
    if socket_dir is not None:
        kwargs.update(_transport(socket_dir))
    return AsyncKernelManager(kernel_name=kernel_name, **kwargs)


def _shutdown(km) -> None:
    """Stop a kernel we started: nbclient leaves a kernel manager it did not create running."""
    if km is None:
        return
    from jupyter_core.utils import run_sync

    try:
        if run_sync(km.is_alive)():
            run_sync(km.shutdown_kernel)(now=True)
    except RuntimeError:  # no kernel was ever started
        pass


def _failure_message(notebook: str, error: Exception) -> str:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(error, PapermillExecutionError):
        first_line = next((ln for ln in error.source.splitlines() if ln.strip()), "")
        return (
            f"notebook {notebook} failed in cell {error.cell_index} "
            f"(execution count {error.exec_count}, starting {first_line!r}): "
            f"{error.ename}: {error.evalue}"
        )
    return f"notebook {notebook} failed: {type(error).__name__}: {error}"


def figures_dir_for(
    stem: str,
    profile_params: Mapping[str, Mapping[str, Any]],
    root: Path,
    out: Path,
    refresh_figures: bool = False,
) -> str:
    """Where notebook ``stem`` saves its figures: ``<out>/figures``, or with ``refresh_figures``
    the committed set (the profile's ``figures_dir``, relative to ``notebooks/``, else figures/)."""
    if not refresh_figures:
        return str(out / "figures")
    merged = {**profile_params.get(SHARED_KEY, {}), **profile_params.get(stem, {})}
    chosen = merged.get("figures_dir")
    if chosen is None:
        return str(root / COMMITTED_FIGURES)
    return str((root / "notebooks" / str(chosen)).resolve())


def run_notebooks(
    names: Sequence[str] | None = None,
    profile: str = "default",
    out_dir: str | Path = "notebooks/executed",
    repo_root: str | Path | None = None,
    extra_parameters: Mapping[str, Any] | None = None,
    kernel_name: str | None = None,
    refresh_figures: bool = False,
    on_done: Callable[[dict[str, Any]], None] | None = None,
) -> list[Path]:
    """Execute notebooks in order (cwd = notebooks/), stop at the first failing cell.

    ``names``: "01", stems or file names (None: every ``NN_*.ipynb``). ``out_dir`` (relative to
    ``repo_root``) receives the executed copies, ``summary.json`` (notebook, seconds, status,
    injected and skipped parameters), rewritten after each notebook, and the figures
    (``<out_dir>/figures``; ``refresh_figures``: the committed set instead, see
    :func:`figures_dir_for`). A ``figures_dir`` in ``extra_parameters`` wins over both.
    ``on_done`` is called with each notebook's summary entry. Returns the executed paths.
    Raises :class:`NotebookExecutionError` naming the notebook and cell on the first failure.
    """
    import papermill

    root = Path(repo_root or default_repo_root()).resolve()
    notebooks_dir = root / "notebooks"
    chosen = resolve_names(names, root)  # bad names or profile: fail before touching out_dir
    profile_params = load_params(profile, root)
    out = Path(out_dir)
    out = (out if out.is_absolute() else root / out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    summary: list[dict[str, Any]] = []
    executed: list[Path] = []

    def record(entry: dict[str, Any]) -> None:
        summary.append(entry)
        meta = {"profile": profile, "python": sys.executable, "notebooks": summary}
        (out / "summary.json").write_text(json.dumps(meta, indent=2, default=str) + "\n")
        if on_done is not None:
            on_done(entry)

    with tempfile.TemporaryDirectory(prefix="dtml-kernel-") as tmp:
        pinned = kernel_name in (None, DEFAULT_KERNEL)
        kernel_dirs = _write_kernel_spec(Path(tmp), root) if pinned else None
        for name in chosen:
            source = notebooks_dir / name
            target = out / name
            figures = figures_dir_for(source.stem, profile_params, root, out, refresh_figures)
            extra = {"figures_dir": figures, **(extra_parameters or {})}
            params, skipped = notebook_parameters(source, profile_params, extra)
            skipped = [k for k in skipped if k != "figures_dir" or k in (extra_parameters or {})]
            if pinned:
                km = _kernel_manager(kernel_dirs)
            else:
                km = _kernel_manager(None, kernel_name, socket_dir=Path(tmp))
            engine_kwargs = {"km": km}
            start = time.perf_counter()
            entry = {
                "notebook": name,
                "executed": str(target),
                "parameters": params,
                "skipped_parameters": skipped,
            }
            try:
                papermill.execute_notebook(
                    str(source),
                    str(target),
                    parameters=params,
                    kernel_name=kernel_name or DEFAULT_KERNEL,
                    cwd=str(notebooks_dir),
                    progress_bar=False,
                    execution_timeout=CELL_TIMEOUT_S,  # a hung cell fails instead of stalling CI
                    **engine_kwargs,
                )
            except Exception as error:
                message = _failure_message(name, error)
                seconds = round(time.perf_counter() - start, 2)
                record({**entry, "seconds": seconds, "status": "failed", "error": message})
                raise NotebookExecutionError(
                    f"{message} (after {seconds:.1f} s; executed copy: {target})"
                ) from error
            finally:
                _shutdown(km)
            record({**entry, "seconds": round(time.perf_counter() - start, 2), "status": "ok"})
            executed.append(target)
    return executed


def _one_line(text: str) -> str:
    return " | ".join(line.strip() for line in str(text).splitlines() if line.strip())


def _console_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _print_done(entry: Mapping[str, Any]) -> None:
    """One console line per notebook: name, status and wall time (errors: see main)."""
    if entry["status"] == "ok":
        executed = _console_path(Path(entry["executed"]))
        print(f"{entry['notebook']}: ok in {entry['seconds']:.1f} s -> {executed}", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m dtml notebooks``: 0 on success, 1 on a failed notebook, 2 on bad arguments.

    Prints one line per executed notebook (its wall time) and, on an error, one line on stderr.
    """
    parser = argparse.ArgumentParser(prog="dtml notebooks", description=run_notebooks.__doc__)
    parser.add_argument("--profile", default="default", help="notebooks/params/<profile>.yaml")
    parser.add_argument(
        "--out", default="notebooks/executed", help="executed copies, summary.json and figures/"
    )
    parser.add_argument("--only", default=None, help="comma-separated, e.g. 01,02")
    parser.add_argument("--data", default=None, help="data_dir for notebooks that declare it")
    parser.add_argument("--kernel", default=None, help="kernel spec name (default: this Python)")
    parser.add_argument(
        "--refresh-figures",
        action="store_true",
        help="rewrite the committed figures (figures/, or the profile's figures_dir) instead of "
        "<out>/figures",
    )
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()] if args.only else None
    if args.data and not Path(args.data).is_dir():
        print(f"dtml: error: --data {args.data}: no such data folder", file=sys.stderr)
        return 2
    extra = {"data_dir": str(Path(args.data).resolve())} if args.data else None
    try:
        run_notebooks(
            names,
            profile=args.profile,
            out_dir=Path(args.out).resolve(),
            extra_parameters=extra,
            kernel_name=args.kernel,
            refresh_figures=args.refresh_figures,
            on_done=_print_done,
        )
    except NotebookExecutionError as error:
        print(f"dtml: error: {_one_line(str(error))}", file=sys.stderr)
        return 1
    except ValueError as error:  # unknown notebook or profile: nothing was run
        print(f"dtml: error: {_one_line(str(error))}", file=sys.stderr)
        return 2
    return 0
