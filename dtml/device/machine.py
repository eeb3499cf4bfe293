"""The lent machine (there): what outlives a call while it stays warm (the stash: installed
wheels, the parts of the export), the export to train from, and what the machine and the code
are (``device.json``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dtml.device.travel import ORIGIN


def stash_dir() -> Path:
    """The folder outside the tree that outlives a call while the machine stays warm:
    ``$DTML_DEVICE_STASH`` (tests), else ``dtml-device`` in the temporary folder."""
    return Path(os.environ.get("DTML_DEVICE_STASH") or Path(tempfile.gettempdir()) / "dtml-device")


def install_wheels(wheels: str | None, root: Path) -> str | None:
    """Install carried wheels (``pip --target``, once per machine); returns the site folder,
    also put first on ``sys.path`` and ``$PYTHONPATH`` (None when no wheel folder is given)."""
    if not wheels or not Path(wheels).is_dir():
        return None
    site = stash_dir() / "site"
    files = sorted(str(w) for w in Path(wheels).glob("*.whl"))
    if files and not (site / ".installed").is_file():
        cmd = [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps"]
        cmd += ["--no-compile", "--no-cache-dir", "--upgrade", "--target", str(site), *files]
        subprocess.run(cmd, check=True)
        (site / ".installed").write_text("\n".join(files))
    if site.is_dir():
        sys.path.insert(0, str(site))
        os.environ["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(site), str(root), os.environ.get("PYTHONPATH")) if p
        )
        return str(site)
    return None


def stash_part(part: Path) -> None:
    """Keep a copy of a part outside the tree for a later call on the same (warm) machine."""
    target = stash_dir() / "parts" / part.name
    if target.is_dir():
        return
    tmp = target.with_name(f".{part.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for f in part.iterdir():
        try:
            os.link(f, tmp / f.name)
        except OSError:
            shutil.copyfile(f, tmp / f.name)
    os.replace(tmp, target)


def find_parts(names: Sequence[str]) -> list[Path]:
    """Each ``--export`` folder as given, else its copy from an earlier call (``stash_part``)."""
    found = []
    for name in names:
        path = Path(name)
        if not (path / "manifest.json").is_file():
            path = stash_dir() / "parts" / Path(name).name
        if not (path / "manifest.json").is_file():
            raise SystemExit(
                f"device_sweep: {name}: no export here and none kept from an earlier call (the "
                "machine was given back between the calls?): carry it in this call"
            )
        found.append(path)
    return found


def data_folder(parts: list[Path], dest: Path) -> Path:
    """The export to train from: the single part, or the parts joined in ``dest`` (kept and
    reused on a warm machine when it is the same export)."""
    from dtml.data.export import join_export
    from dtml.data.exported import available_cases, read_manifest

    if len(parts) == 1:
        return parts[0].resolve()
    if dest.is_dir():
        same = read_manifest(dest) == read_manifest(parts[0])
        if same and len(available_cases(dest)) == len(read_manifest(dest)["cases"]):
            return dest.resolve()
        shutil.rmtree(dest)
    return join_export(parts, dest).resolve()


def environment() -> dict[str, Any]:
    """The machine: GPU, torch, CUDA, CPUs, and ``nvidia-smi -L`` when it is there."""
    import torch

    info: dict[str, Any] = {
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cuda_available": torch.cuda.is_available(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
    }
    try:
        smi = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20)
        info["nvidia_smi"] = smi.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        info["nvidia_smi"] = None
    return info


def commit_of(commit: str | None, parts: Sequence[Path]) -> str:
    """The code's commit: ``commit`` (``--commit``), ``$DTML_COMMIT``, git, else the one ``split``
    recorded in the parts (``origin.json``; the tree a call sends has no ``.git``)."""
    from dtml.runs import git_commit

    found = commit or os.environ.get("DTML_COMMIT") or git_commit()
    if found in (None, "", "unknown"):
        origin = [p / ORIGIN for p in parts if (p / ORIGIN).is_file()]
        found = json.loads(origin[0].read_text())["commit"] if origin else "unknown"
    return found
