"""Hardware names from run provenance, as a table or a sentence shows them.

``dtml.runs.hardware`` records ``<cpu model> (<n> threads, <vector unit>)`` or the GPU's name; the
recorded string is kept as is (it groups runs by machine) and only its display changes here.
"""

from __future__ import annotations

import re


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
