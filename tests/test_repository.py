"""Properties of the committed tree: no machine paths, the paper's venue named correctly."""

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIP_DIRS = {".git", ".venv", "runs", "executed", "__pycache__", ".pytest_cache", ".ruff_cache"}
TEXT = {".py", ".md", ".yaml", ".yml", ".json", ".csv", ".toml", ".ipynb", ".sh", ".list", ".txt"}
# built from parts so that this file does not match itself
MACHINE_PATH = re.compile("(?<![\\w.])/(" + "|".join(["work", "root", "home", "tmp"]) + ")/")


def committed_text_files() -> list[Path]:
    files = []
    for folder, dirs, names in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")]
        files += [Path(folder) / n for n in names if Path(n).suffix in TEXT]
    return files


@pytest.mark.parametrize("check", ["machine path", "venue"])
def test_committed_files(check):
    assert len(committed_text_files()) > 100
    bad = []
    for path in committed_text_files():
        text = path.read_text(errors="replace")
        if check == "machine path" and MACHINE_PATH.search(text):
            bad.append(str(path.relative_to(ROOT)))
        if check == "venue" and re.search("MICCAI[\\s,]*2021", text):
            bad.append(str(path.relative_to(ROOT)))
    assert not bad, f"{check} found in: {bad[:10]}"


def test_readme_layout_names_every_package_module():
    """The README's layout block lists each module and sub-package of dtml/ (none forgotten)."""
    readme = (ROOT / "README.md").read_text()
    layout = readme.split("## Layout", 1)[1].split("```", 2)[1]
    listed = set(re.findall(r"^  (\w+(?:\.py|/))", layout, flags=re.MULTILINE))
    package = ROOT / "dtml"
    present = {p.name for p in package.glob("*.py") if not p.name.startswith("__")}
    present |= {p.name + "/" for p in package.iterdir() if (p / "__init__.py").is_file()}
    assert present - listed == set(), "modules missing from the README layout"
    assert listed - present == set(), "the README layout lists modules that do not exist"
