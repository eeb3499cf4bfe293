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
NORMALIZATIONS = ("stored", "volume")
PIPELINE = 2  # the current data pipeline version (see ``TrainConfig.pipeline``)


@dataclass
class TrainConfig:
    """Everything a training run depends on. Defaults are the paper's setting (Sec. 4.1)."""

    # data
    data: str | None = None  # LA-style root; None -> $DTML_DATA, else the embedded phantom
    split: str = "paper"  # "paper" (16/64, no validation) or "dev" (16/48/16 validation)
    labeled_count: int = 16
    val_count: int = 16
    data_id: str | None = None  # content fingerprint of the data (set when a run starts)
    grid: float = 1.0  # resampling factor of every axis (0.5 = half resolution)
    normalization: str = "stored"  # "stored" (release as is) | "volume" (re-z-scored per volume)
    # Data pipeline version. 1: sessions 1-2 (chained unlabeled permutations, crop start up to and
    # including size - patch, only short axes padded); 2: the authors' sampler, crop and padding.
    pipeline: int = PIPELINE
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
        if self.normalization not in NORMALIZATIONS:
            raise ValueError(
                f"normalization must be one of {NORMALIZATIONS}, got '{self.normalization}'"
            )
        if self.pipeline not in (1, 2):
            raise ValueError(f"pipeline must be 1 or 2, got {self.pipeline}")
        if self.pipeline == 1 and self.normalization != "stored":
            raise ValueError("normalization='volume' needs pipeline=2")
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
        """Hash of every field that changes the trained weights (paths and cadence excluded).

        Pipeline 2 identifies the data by content (``data_id``); pipeline-1 keys are computed as
        they were when those runs trained (resolved path, no pipeline/normalization fields), so
        the committed dev-split runs keep their keys.
        """
        d = {k: v for k, v in self.to_dict().items() if k not in NON_RESULT_FIELDS}
        if self.pipeline == 1:
            if not self.data and self.data_id and self.data_id.startswith("la-"):
                raise ValueError(
                    "pipeline-1 run keys hash the data path, which this saved config no longer "
                    "records (data_id only); set data to recompute the key"
                )
            for name in ("pipeline", "normalization"):
                d.pop(name)
            d["data"] = legacy_data_identity(self.data)
        else:
            d["data"] = self.data_id or data_fingerprint(self.data)
        return hashlib.sha1(json.dumps(d, sort_keys=True).encode()).hexdigest()[:12]

    def with_data_id(self) -> TrainConfig:
        """This config with its data fingerprint filled in (what a run folder records)."""
        if self.pipeline == 1 or self.data_id:
            return self
        return self.replace(data_id=data_fingerprint(self.data))

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)


def legacy_data_identity(data: str | None) -> str:
    """Pipeline-1 data identity: the resolved root (``$DTML_DATA`` included), or the phantom's
    generator version. Kept only so that old run keys stay what they were."""
    chosen = data or os.environ.get("DTML_DATA")
    if chosen:
        return str(Path(chosen).expanduser().resolve())
    from dtml.data.phantom import GENERATOR_VERSION

    return f"phantom-v{GENERATOR_VERSION}"


def data_fingerprint(data: str | None) -> str:
    """Pipeline-2 data identity, by content: the phantom's generator version, or a hash of the
    training list and each listed case file (see ``dtml.data.fingerprint``)."""
    chosen = data or os.environ.get("DTML_DATA")
    if not chosen:
        from dtml.data.phantom import GENERATOR_VERSION

        return f"phantom-v{GENERATOR_VERSION}"
    from dtml.data.fingerprint import fingerprint

    return fingerprint(chosen)


NON_RESULT_FIELDS = frozenset(
    {
        "runs_dir",
        "checkpoint_every",
        "log_every",
        "profile",
        "threads",
        "eval_patch",
        "eval_stride",
        "data_id",  # folded into "data" by key()
    }
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
    """A config from a saved ``config.yaml``; one without ``pipeline`` predates it (pipeline 1)."""
    d = {"pipeline": 1, **d}
    names = {f.name for f in fields(TrainConfig)}
    bad = set(d) - names
    if bad:
        raise ValueError(f"unknown config keys {sorted(bad)}")
    return TrainConfig(**{k: _coerce(k, v) for k, v in d.items()})
