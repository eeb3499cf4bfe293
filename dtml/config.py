"""Typed training configuration and its YAML profiles (``dtml/profiles/*.yaml``).

One flat dataclass, so ``--set key=value`` is unambiguous. A run is keyed by the hash of every field
that can change its result (``RESULT_FIELDS``); paths and logging cadence are not part of the key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

PROFILES = ("ci", "cpu", "paper")
FIDELITIES = ("official", "paper")


@dataclass
class TrainConfig:
    """Everything a training run depends on. Defaults are the paper's setting (Sec. 4.1)."""

    # data
    data: str | None = None  # LA-style root; None -> $DTML_DATA, else the embedded phantom
    split: str = "paper"  # "paper" (16/64, no validation) or "dev" (16/48/16 validation)
    labeled_count: int = 16
    val_count: int = 16
    grid: float = 1.0  # resampling factor of every axis (0.5 = half resolution)
    patch: tuple[int, int, int] = (112, 112, 80)
    # network
    base_filters: int = 16
    dropout: float = 0.5
    # method (see dtml.methods)
    method: str = "dtml"
    fidelity: str = "official"  # "official" (authors' code) or "paper" (as printed)
    md_loss: str = "mask"  # supervision of M_d: "mask" | "dis" | "dis+mask" (Table 1)
    k: float = 1500.0  # Eq. (2) transform factor
    consistency: float | None = None  # max lambda; None -> 1.0 official / 0.1 paper
    rampup_step: int = 150  # official stepped ramp: lambda changes every N iterations ...
    rampup_steps: int = 40  # ... for this many steps (40 x 150 = 6000 iterations)
    # optimisation
    iterations: int = 6000
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 1e-4
    lr_step: int = 2500  # lr x lr_gamma every lr_step iterations
    lr_gamma: float = 0.1
    labeled_bs: int = 2
    unlabeled_bs: int = 2
    # runtime
    seed: int = 1
    device: str = "auto"  # "auto" -> cuda if available else cpu
    precision: str = "fp32"  # "fp32" | "bf16" (autocast)
    threads: int = 0  # torch CPU threads; 0 = torch default
    # evaluation (sliding window, official 112x112x80 with stride 18/18/4)
    eval_patch: tuple[int, int, int] | None = None  # None -> patch
    eval_stride: tuple[int, int, int] = (18, 18, 4)
    # bookkeeping (not part of the run key)
    runs_dir: str = "runs"
    checkpoint_every: int = 200
    log_every: int = 10
    profile: str = field(default="custom")

    def __post_init__(self) -> None:
        self.patch = tuple(int(p) for p in self.patch)
        self.eval_stride = tuple(int(s) for s in self.eval_stride)
        if self.eval_patch is not None:
            self.eval_patch = tuple(int(p) for p in self.eval_patch)
        if self.fidelity not in FIDELITIES:
            raise ValueError(f"fidelity must be one of {FIDELITIES}, got '{self.fidelity}'")
        if self.precision not in ("fp32", "bf16"):
            raise ValueError(f"precision must be 'fp32' or 'bf16', got '{self.precision}'")
        if self.md_loss not in ("mask", "dis", "dis+mask"):
            raise ValueError(f"md_loss must be 'mask', 'dis' or 'dis+mask', got '{self.md_loss}'")
        if len(self.patch) != 3 or any(p % 16 for p in self.patch):
            raise ValueError(f"patch {self.patch} must be 3 sizes divisible by 16 (V-Net)")
        if min(self.rampup_step, self.rampup_steps, self.lr_step, self.checkpoint_every) < 1:
            raise ValueError("rampup_step, rampup_steps, lr_step and checkpoint_every must be >= 1")
        if self.split not in ("paper", "dev"):
            raise ValueError(f"split must be 'paper' or 'dev', got '{self.split}'")
        if not 0 < self.grid <= 1:
            raise ValueError(f"grid must be in (0, 1], got {self.grid}")
        if self.iterations < 1 or self.labeled_bs < 1 or self.unlabeled_bs < 0:
            raise ValueError("iterations and labeled_bs must be >= 1, unlabeled_bs >= 0")

    @property
    def lambda_max(self) -> float:
        if self.consistency is not None:
            return self.consistency
        return 1.0 if self.fidelity == "official" else 0.1

    @property
    def window(self) -> tuple[int, int, int]:
        return self.eval_patch or self.patch

    def to_dict(self) -> dict[str, Any]:
        return {
            k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(self).items()
        }

    def key(self) -> str:
        """Hash of every field that changes the trained weights (paths and cadence excluded)."""
        d = {k: v for k, v in self.to_dict().items() if k not in NON_RESULT_FIELDS}
        d["data"] = data_identity(d["data"])
        return hashlib.sha1(json.dumps(d, sort_keys=True).encode()).hexdigest()[:12]

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)


def data_identity(data: str | None) -> str:
    """What the run key records of the data: the resolved root (``$DTML_DATA`` included), or the
    phantom's generator version (a new generator is new data)."""
    chosen = data or os.environ.get("DTML_DATA")
    if chosen:
        return str(Path(chosen).expanduser().resolve())
    from dtml.data.phantom import GENERATOR_VERSION

    return f"phantom-v{GENERATOR_VERSION}"


NON_RESULT_FIELDS = frozenset(
    {"runs_dir", "checkpoint_every", "log_every", "profile", "threads", "eval_patch", "eval_stride"}
)


def _coerce(name: str, value: Any) -> Any:
    """Convert a ``--set`` string (or YAML value) to the field's type."""
    ftype = {f.name: f.type for f in fields(TrainConfig)}[name]
    if not isinstance(value, str):
        return tuple(value) if isinstance(value, list) else value
    if value.lower() in ("none", "null"):
        return None
    if "tuple" in str(ftype):
        return tuple(int(v) for v in value.replace("x", ",").split(","))
    if "float" in str(ftype):
        return float(value)
    if "int" in str(ftype):
        return int(value)
    return value


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    names = {f.name for f in fields(TrainConfig)}
    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise ValueError(f"--set expects key=value, got '{pair}'")
        key, value = pair.split("=", 1)
        if key not in names:
            raise ValueError(f"unknown config key '{key}'; known: {sorted(names)}")
        out[key] = _coerce(key, value)
    return out


def load_profile(name: str, **overrides: Any) -> TrainConfig:
    """A named profile (``ci``, ``cpu``, ``paper``) with optional field overrides."""
    if name not in PROFILES:
        raise ValueError(f"unknown profile '{name}', expected one of {PROFILES}")
    text = resources.files("dtml").joinpath("profiles", f"{name}.yaml").read_text()
    values = yaml.safe_load(text) or {}
    names = {f.name for f in fields(TrainConfig)}
    bad = set(values) - names
    if bad:
        raise ValueError(f"profile '{name}': unknown keys {sorted(bad)}")
    values = {k: _coerce(k, v) for k, v in values.items()}
    values.update(overrides)
    values["profile"] = name
    return TrainConfig(**values)


def config_from_dict(d: dict[str, Any]) -> TrainConfig:
    return TrainConfig(**{k: _coerce(k, v) for k, v in d.items()})
