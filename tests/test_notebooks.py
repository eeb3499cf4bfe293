"""Tests for dtml.notebooks and the committed notebooks (structure, then execution with papermill).

Executing a notebook starts a Jupyter kernel (a few seconds each): those tests are marked ``slow``
and still run by default (``make test``). ``DTML_SHARED_LA`` (an existing folder) is passed as
``data_dir`` to notebook 00 only, so CI can exercise the real data there.

Executed notebooks never write into the repository: figures go to a temporary folder and every run
trains into a session-wide temporary ``runs_dir`` (shared by notebooks 03-07, as ``runs/`` is for
``make reproduce``), so ``make reproduce`` can never pick up a run left by ``make test``.
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
    figures_dir_for,
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


@pytest.fixture(scope="session")
def test_runs_dir(tmp_path_factory) -> Path:
    """The run cache of the executed notebooks: never the project's runs/."""
    return tmp_path_factory.mktemp("notebook_runs")


def _isolated(tmp_path: Path, runs_dir: Path) -> dict[str, str]:
    return {
        "figures_dir": str(tmp_path / "figures"),
        "runs_dir": str(runs_dir),
        "results_dir": str(tmp_path / "tables"),  # notebooks 04-06 write every shown table there
    }


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


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_outputs_are_parameters(name):
    """Figures and runs land where the runner says: a notebook that uses figures_dir or runs_dir
    declares it (so tests and `make reproduce` can route it), and by default writes no tracked
    folder (figures go to the git-ignored notebooks/executed/figures)."""
    import papermill

    path = ROOT / "notebooks" / name
    declared = papermill.inspect_notebook(str(path))
    code = "".join(c.source for c in nbformat.read(path, as_version=4).cells)
    assert "figures_dir" in declared, f"{name}: declare figures_dir in the parameters cell"
    assert declared["figures_dir"]["default"].strip("\"'") == "executed/figures", name
    if "runs_dir" in code or "train(" in code:
        assert "runs_dir" in declared, f"{name}: declare runs_dir in the parameters cell"


def test_figures_go_to_the_output_folder_unless_refreshed(tmp_path):
    profile = {"_all": {"figures_dir": "../figures"}, "07_x": {"figures_dir": "../figures/x"}}
    out = tmp_path / "executed"
    assert figures_dir_for("03_x", profile, ROOT, out) == str(out / "figures")
    assert figures_dir_for("07_x", profile, ROOT, out) == str(out / "figures")
    refreshed = figures_dir_for("03_x", profile, ROOT, out, refresh_figures=True)
    assert refreshed == str(ROOT / "figures")
    refreshed = figures_dir_for("07_x", profile, ROOT, out, refresh_figures=True)
    assert refreshed == str(ROOT / "figures" / "x")
    assert figures_dir_for("03_x", {}, ROOT, out, refresh_figures=True) == str(ROOT / "figures")


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
        'size = 1\ntag = "default"\nfigures_dir = "executed/figures"',
        "import json, os, sys\n"
        "json.dump({'size': size, 'tag': tag, 'python': sys.executable, 'cwd': os.getcwd(),"
        " 'figures_dir': figures_dir}, open('record.json', 'w'))",
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
        "figures_dir": str(out / "figures"),  # next to the executed copies, not the repository
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
def test_notebook_executes_with_ci_profile(name, tmp_path, test_runs_dir):
    extra = _isolated(tmp_path, test_runs_dir)
    if name.removesuffix(".ipynb") not in TABLE_NOTEBOOKS:
        del extra["results_dir"]  # notebook 00 reads the committed results under that name
    shared_la = os.environ.get("DTML_SHARED_LA", "")
    if name.startswith("00_") and shared_la and Path(shared_la).is_dir():
        extra["data_dir"] = str(Path(shared_la).resolve())
    paths = run_notebooks([name], profile="ci", out_dir=tmp_path, extra_parameters=extra)
    executed = nbformat.read(paths[0], as_version=4)
    assert any(c.get("outputs") for c in executed.cells if c.cell_type == "code")
    (entry,) = json.loads((tmp_path / "summary.json").read_text())["notebooks"]
    assert entry["status"] == "ok"
    assert entry["parameters"]["figures_dir"] == extra["figures_dir"]
    assert entry["parameters"].get("runs_dir", extra["runs_dir"]) == extra["runs_dir"]
    if name.removesuffix(".ipynb") in TABLE_NOTEBOOKS:  # trained here: a pipeline check, said so
        text = _shown_text(paths[0])
        assert "Pipeline check, not the paper's Table" in text
        assert text.count("**Read with care**") == 1 and max(_table_widths(text)) <= 8


TABLE_NOTEBOOKS = ["04_table1_supervised_losses", "05_table2_ablation", "06_table3_comparison"]


@pytest.mark.parametrize("name", TABLE_NOTEBOOKS)
def test_reproduce_shows_committed_results_and_make_test_trains(name):
    """`make reproduce` reads the committed real-data results (the test-split benchmark first, then
    the dev-split study) and trains nothing; `make test` still trains the phantom rows."""
    dirs = ["../results/cpu_paper", "../results/cpu_dev"]
    for profile in ("default", "committed"):
        params = load_params(profile, ROOT)
        merged = {**params.get("_all", {}), **params[name]}
        assert merged["use_committed_results"] is True, profile
        assert merged["committed_results_dirs"] == dirs, profile
    assert load_params("ci", ROOT)[name]["use_committed_results"] is False
    assert load_params("ci", ROOT)[name]["train_profile"] == "ci"


def _shown_text(path: Path) -> str:
    return "".join(
        str(o.get("text", "")) + str(o.get("data", {}).get("text/markdown", ""))
        for c in nbformat.read(path, as_version=4).cells
        for o in c.get("outputs", [])
    )


def _table_widths(text: str) -> list[int]:
    """Columns of every markdown table in ``text`` (from their header lines)."""
    lines = text.splitlines()
    return [
        len(line.strip().strip("|").split("|"))
        for line, below in zip(lines, lines[1:], strict=False)
        if line.startswith("| ") and below.startswith("|---")
    ]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["05_table2_ablation", "06_table3_comparison"])
def test_tables_execute_from_the_committed_results(name, tmp_path, test_runs_dir):
    extra = _isolated(tmp_path, test_runs_dir)
    paths = run_notebooks([name], profile="committed", out_dir=tmp_path, extra_parameters=extra)
    text = _shown_text(paths[0])
    assert "read from committed results" in text and "real LA data" in text
    assert "dev split: 16 validation scans carved from train.list" in text
    widths = _table_widths(text)
    assert widths and max(widths) <= 8, widths  # projectable; all columns in the CSV
    assert text.count("**Read with care**") == 1 and "phantom" not in text
    assert "all columns:" in text and list((tmp_path / "tables").glob("*.csv"))
    assert (tmp_path / "figures").is_dir()


def test_main_help_and_bad_arguments(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "--profile" in capsys.readouterr().out
    assert main(["--only", "99", "--profile", "ci"]) == 2
    assert "matches 0 notebooks" in capsys.readouterr().err
    assert main(["--only", "01", "--profile", "no-such-profile"]) == 2
    assert "no parameter profile" in capsys.readouterr().err
    assert main(["--only", "01", "--profile", "ci", "--data", "/no/such/folder"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "dtml: error: --data /no/such/folder" in err
