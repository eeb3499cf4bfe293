"""Provenance files without machine paths: a data path becomes the data's content id.

Runs of pipeline 2 never record a path; runs trained before it recorded the data root in
``config.yaml`` (``data``) and in their summaries (``data_root``). Exported copies replace both by
``data_id`` (``dtml.data.fingerprint``), so committed files name the data by content only.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

PHANTOM = re.compile(r"phantom-v\d+")


def data_id_of(path: str | None) -> str:
    """Content id of a data root named by path (``unknown`` when it is gone)."""
    if not path:
        return "unknown"
    found = PHANTOM.search(Path(path).name)
    if found:
        return found.group(0)
    if Path(path).is_dir():
        from dtml.data.fingerprint import fingerprint

        return fingerprint(path)
    return "unknown"


def portable_config(config: dict[str, Any]) -> dict[str, Any]:
    """A saved config with its data path replaced by ``data_id`` and an absolute ``runs_dir`` by
    its folder name (where the run cache lived is not part of the run: not in its key)."""
    out = dict(config)
    runs_dir = out.get("runs_dir")
    if runs_dir and Path(runs_dir).is_absolute():
        out["runs_dir"] = Path(runs_dir).name
    if out.get("data"):
        out["data"], out["data_id"] = None, out.get("data_id") or data_id_of(out["data"])
    return out


def portable_summary(summary: dict[str, Any], data_id: str | None = None) -> dict[str, Any]:
    """A train/eval summary with ``data_root`` replaced by ``data_id`` (key order kept)."""
    if "data_root" not in summary:
        return summary
    out = {}
    for key, value in summary.items():
        if key == "data_root":
            out.setdefault("data_id", summary.get("data_id") or data_id or data_id_of(value))
        elif key != "data_id" or "data_id" not in out:
            out[key] = value
    return out


def copy_portable(src: Path, dest: Path, data_id: str | None = None) -> None:
    """Copy one provenance file, stripping paths from configs and JSON summaries."""
    if src.name == "config.yaml":
        config = yaml.safe_load(src.read_text())
        dest.write_text(yaml.safe_dump(portable_config(config), sort_keys=False))
    elif src.suffix == ".json":
        summary = json.loads(src.read_text())
        dest.write_text(json.dumps(portable_summary(summary, data_id), indent=2))
    else:
        dest.write_bytes(src.read_bytes())
