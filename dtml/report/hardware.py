"""Hardware names from run provenance, as a table or a sentence shows them.

``dtml.runs.hardware`` records ``<cpu model> (<n> threads, <vector unit>)`` or the GPU's name; the
recorded string is kept as is (it groups runs by machine) and only its display changes here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


def hardware_text(name: str) -> str:
    """A recorded hardware name as prose: the provenance says ``(1 threads, ...)``, kept as
    recorded (it groups runs by machine) and written ``(1 thread, ...)`` here."""
    return re.sub(r"\b1 threads\b", "1 thread", name)


def short_hardware(name: str | None) -> str:
    """``NVIDIA H200`` -> ``H200``; ``<cpu model> (1 threads, AVX512)`` -> ``CPU, 1 thread,
    AVX512`` (older provenance has no vector unit: ``CPU, 1 thread``)."""
    if not name:
        return "unknown hardware"
    if name.startswith("NVIDIA "):
        return name.removeprefix("NVIDIA ")
    threads = name.rsplit("(", 1)[-1].rstrip(")") if name.endswith(")") else ""
    return hardware_text(f"CPU, {threads}" if threads else name)


@dataclass(frozen=True)
class Stretch:
    """Iterations ``start``-``end`` of one run trained on one ``hardware`` in ``seconds``."""

    start: int
    end: int
    hardware: str
    seconds: float

    @property
    def seconds_per_iteration(self) -> float | None:
        return self.seconds / (self.end - self.start) if self.end > self.start else None


def training_stretches(train: Mapping[str, Any]) -> list[Stretch]:
    """A run's training by hardware, from its train summary's ``legs`` (every start and resume,
    ``dtml.train``): consecutive legs on one hardware are one stretch, so a run resumed on the
    same machine is one stretch and a run moved from 1 to 2 threads is two; a leg that trained
    nothing (a resume from the last checkpoint) is left out. A summary without legs is one
    stretch on its ``hardware``; one without its iterations or wall time has none."""
    if train.get("iterations") is None or train.get("wall_seconds") is None:
        return []
    legs = train.get("legs") or [{"from_iteration": 0, "elapsed_before": 0.0}]
    ends = [(leg["from_iteration"], leg["elapsed_before"]) for leg in legs[1:]]
    ends.append((train["iterations"], train["wall_seconds"]))
    out: list[Stretch] = []
    for leg, (end, elapsed) in zip(legs, ends, strict=True):
        if end <= leg["from_iteration"]:
            continue
        name = str(leg.get("hardware", train.get("hardware")))
        seconds = float(elapsed) - float(leg["elapsed_before"])
        if out and out[-1].hardware == name:
            last = out.pop()
            out.append(Stretch(last.start, end, name, last.seconds + seconds))
        else:
            out.append(Stretch(int(leg["from_iteration"]), int(end), name, seconds))
    return out


def stretches_text(train: Mapping[str, Any]) -> str:
    """``iterations 0-900 on CPU, 1 thread, AVX512 (1.68 s/it); 900-3000 on CPU, 2 threads,
    AVX512 (0.82 s/it)`` for a run trained on more than one hardware; ``""`` otherwise."""
    stretches = training_stretches(train)
    if len(stretches) < 2:
        return ""
    parts = [
        f"{s.start}-{s.end} on {short_hardware(s.hardware)}"
        + (f" ({s.seconds_per_iteration:.2f} s/it)" if s.seconds_per_iteration else "")
        for s in stretches
    ]
    return "iterations " + "; ".join(parts)


def speed_text(train: Mapping[str, Any]) -> str:
    """A run's training speed in s/it: ``0.60``; ``1.68 then 0.82`` for a run moved between
    hardware (one per stretch, never their blend); ``?`` where the summary has none."""
    stretches = training_stretches(train)
    if len(stretches) > 1:
        speeds = [s.seconds_per_iteration for s in stretches]
        return " then ".join(f"{v:.2f}" if v else "?" for v in speeds)
    seconds = train.get("seconds_per_iteration")
    return f"{seconds:.2f}" if seconds is not None else "?"


def wall_text(seed: int, train: Mapping[str, Any]) -> str:
    """``s2 CPU AVX512 143 min (2.85 s/it)``: the vector unit where the run recorded it; the
    speed tells machines apart where the name cannot (``s1 CPU 139 min (2.77 s/it)``). The
    thread count only where it is not the setting's one thread; a run moved between hardware
    gives each stretch (``iterations 0-900 on ... (1.68 s/it); 900-3000 on ...``)."""
    head = f"s{seed} {{}} {train['wall_seconds'] / 60:.0f} min"
    name, *rest = short_hardware(train["hardware"]).split(", ")
    stretches = stretches_text(train)
    if stretches:
        return head.format(name) + f" ({stretches})"
    seconds = train.get("seconds_per_iteration")
    speed = f" ({seconds:.2f} s/it)" if seconds else ""
    return head.format(" ".join([name, *(r for r in rest if r != "1 thread")])) + speed


def machines_text(train: Mapping[str, Any], short=short_hardware) -> str:
    """Every hardware a run trained on, in order, each written by ``short``: ``CPU, 1 thread``,
    or ``CPU, 1 thread then H200`` for a run moved between machines."""
    return " then ".join(short(h) for h in run_hardware(train))


def run_hardware(train: Mapping[str, Any]) -> list[str]:
    """Every hardware a run trained on, in order (its stretches); the summary's ``hardware``
    where the stretches are unknown."""
    return [s.hardware for s in training_stretches(train)] or [str(train.get("hardware"))]
