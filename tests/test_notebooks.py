"""Tests for dtml.notebooks and the committed notebooks (structure, then execution with papermill).

Executing a notebook starts a Jupyter kernel (a few seconds each): those tests are marked ``slow``
and still run by default (``make test``). ``DTML_SHARED_LA`` (an existing folder) is passed as
``data_dir`` to notebook 00 only, so CI can exercise the real data there.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_core.utils import run_sync
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import dtml.notebooks as notebooks_module
from dtml.notebooks import (
    NotebookExecutionError,
    default_repo_root,
    list_notebooks,
    load_params,
    main,
    notebook_parameters,
    resolve_names,
    run_notebooks,
)

ROOT = default_repo_root()
NOTEBOOKS = list_notebooks(ROOT)


def _parameter_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]


# --- the committed notebooks ---------------------------------------------------------------------


def test_notebooks_are_found_in_order():
    assert NOTEBOOKS == sorted(NOTEBOOKS)
    assert {"01_signed_distance_maps.ipynb", "02_inverse_transform_k_sweep.ipynb"} <= set(NOTEBOOKS)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebook_is_clean_and_parameterised(name):
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    nbformat.validate(nb)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.lstrip().startswith("# "), (
        f"{name}: the first cell must be a markdown title ('# ...')"
    )
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs for c in code), f"{name}: strip the outputs before committing"
    assert all(c.execution_count is None for c in code), f"{name}: strip the execution counts"
    params = _parameter_cells(nb)
    assert len(params) == 1 and params[0].cell_type == "code", (
        f"{name}: needs exactly one code cell tagged 'parameters', found {len(params)}"
    )
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", name


@pytest.mark.parametrize("profile", ["default", "ci", "committed"])
def test_profiles_only_name_existing_notebooks(profile):
    stems = {Path(n).stem for n in NOTEBOOKS}
    unknown = set(load_params(profile, ROOT)) - stems - {"_all"}
    assert not unknown, f"notebooks/params/{profile}.yaml names missing notebooks: {unknown}"


# --- the runner, on a throwaway repository -------------------------------------------------------


def _notebook(path: Path, parameters: str, body: str) -> None:
    cells = [new_markdown_cell("# toy"), new_code_cell(parameters), new_code_cell(body)]
    cells[1].metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)


@pytest.fixture
def toy_repo(tmp_path: Path) -> Path:
    """notebooks/01_ok (writes what it received) and 02_fails, with a profile."""
    folder = tmp_path / "notebooks"
    (folder / "params").mkdir(parents=True)
    _notebook(
        folder / "01_ok.ipynb",
        'size = 1\ntag = "default"',
        "import json, os, sys\n"
        "json.dump({'size': size, 'tag': tag, 'python': sys.executable, 'cwd': os.getcwd()},"
        " open('record.json', 'w'))",
    )
    _notebook(folder / "02_fails.ipynb", "size = 1", "x = 1\nraise ValueError('boom')")
    (folder / "03_notes.md").write_text("not a notebook")
    (folder / "params" / "toy.yaml").write_text(
        "_all:\n  size: 2\n  unknown_shared: 5\n01_ok:\n  tag: from-yaml\n"
    )
    return tmp_path


def test_names_resolve_by_number_stem_or_file(toy_repo):
    assert list_notebooks(toy_repo) == ["01_ok.ipynb", "02_fails.ipynb"]
    assert resolve_names(["01", "02_fails", "01_ok.ipynb"], toy_repo) == [
        "01_ok.ipynb",
        "02_fails.ipynb",
        "01_ok.ipynb",
    ]
    with pytest.raises(ValueError, match="matches 0 notebooks"):
        resolve_names(["07"], toy_repo)
    with pytest.raises(ValueError, match="no parameter profile"):
        load_params("nope", toy_repo)


def test_parameters_merge_and_skip_undeclared(toy_repo):
    profile = load_params("toy", toy_repo)
    params, skipped = notebook_parameters(
        toy_repo / "notebooks" / "01_ok.ipynb", profile, {"tag": "extra", "data_dir": "/x"}
    )
    assert params == {"size": 2, "tag": "extra"}  # _all < own entry < extra
    assert skipped == ["data_dir", "unknown_shared"]


@pytest.mark.slow
def test_runner_injects_parameters_uses_this_python_and_names_failures(
    toy_repo, tmp_path, monkeypatch
):
    # A "python3" kernel spec of another interpreter comes first on the Jupyter path: the runner
    # must not use it.
    decoy = tmp_path / "jupyter" / "kernels" / "python3"
    decoy.mkdir(parents=True)
    argv = ["/nonexistent/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (decoy / "kernel.json").write_text(json.dumps({"argv": argv, "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    managers = []
    make_km = notebooks_module._kernel_manager
    monkeypatch.setattr(
        notebooks_module, "_kernel_manager", lambda d: managers.append(make_km(d)) or managers[-1]
    )
    out = tmp_path / "executed"
    paths = run_notebooks(["01"], profile="toy", out_dir=out, repo_root=toy_repo)
    # every kernel the runner started is shut down again (nbclient leaves a passed-in km running)
    assert managers and not any(run_sync(km.is_alive)() for km in managers)
    assert paths == [out / "01_ok.ipynb"] and paths[0].is_file()
    record = json.loads((toy_repo / "notebooks" / "record.json").read_text())
    assert record == {
        "size": 2,
        "tag": "from-yaml",
        "python": sys.executable,  # the kernel runs this interpreter, not some other python3
        "cwd": str((toy_repo / "notebooks").resolve()),
    }
    summary = json.loads((out / "summary.json").read_text())
    assert [(e["notebook"], e["status"]) for e in summary["notebooks"]] == [("01_ok.ipynb", "ok")]

    with pytest.raises(NotebookExecutionError, match=r"02_fails\.ipynb.*cell.*ValueError: boom"):
        run_notebooks(None, profile="toy", out_dir=out, repo_root=toy_repo)
    summary = json.loads((out / "summary.json").read_text())
    assert [e["status"] for e in summary["notebooks"]] == ["ok", "failed"]
    assert "boom" in summary["notebooks"][1]["error"]
    assert not any(run_sync(km.is_alive)() for km in managers)


# --- every committed notebook, executed with the CI profile --------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_executes_with_ci_profile(name, tmp_path):
    extra = {"figures_dir": str(tmp_path / "figures")}
    shared_la = os.environ.get("DTML_SHARED_LA", "")
    if name.startswith("00_") and shared_la and Path(shared_la).is_dir():
        extra["data_dir"] = str(Path(shared_la).resolve())
    paths = run_notebooks([name], profile="ci", out_dir=tmp_path, extra_parameters=extra)
    executed = nbformat.read(paths[0], as_version=4)
    assert any(c.get("outputs") for c in executed.cells if c.cell_type == "code")
    assert json.loads((tmp_path / "summary.json").read_text())["notebooks"][0]["status"] == "ok"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["05_table2_ablation", "06_table3_comparison"])
def test_tables_execute_from_the_committed_results(name, tmp_path):
    extra = {"figures_dir": str(tmp_path / "figures")}
    paths = run_notebooks([name], profile="committed", out_dir=tmp_path, extra_parameters=extra)
    text = "".join(
        str(o.get("text", "")) + str(o.get("data", {}).get("text/markdown", ""))
        for c in nbformat.read(paths[0], as_version=4).cells
        for o in c.get("outputs", [])
    )
    assert "read from committed results" in text and "real LA data" in text
    assert (tmp_path / "figures").is_dir()


def test_main_help_and_bad_arguments(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "--profile" in capsys.readouterr().out
    assert main(["--only", "99", "--profile", "ci"]) == 2
    assert "matches 0 notebooks" in capsys.readouterr().err
    assert main(["--only", "01", "--profile", "no-such-profile"]) == 2
    assert "no parameter profile" in capsys.readouterr().err
