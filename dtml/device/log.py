"""The lines a device call prints: unbuffered on stdout and, once attached, in ``$OUT``'s log."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

LOG = "device_sweep.log"  # the log file a call writes beside the archive in $OUT
Say = Callable[[str], None]  # what the kit's functions print their lines with (a Log)


class Log:
    """Lines to stdout (unbuffered) and, once ``attach``ed, to a log file as well."""

    def __init__(self) -> None:
        self.file = None
        self.lock = threading.Lock()

    def attach(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.file = path.open("a", buffering=1)

    def __call__(self, text: str) -> None:
        with self.lock:
            print(text, flush=True)
            if self.file is not None:
                self.file.write(text + "\n")

    def close(self) -> None:
        """Close the log file, if one is attached (lines go on to stdout only)."""
        with self.lock:
            if self.file is not None:
                self.file.close()
                self.file = None


def stamp(t0: float) -> str:
    """``[HH:MM:SS +seconds]``: the clock and the seconds since ``t0`` (``time.monotonic``)."""
    return f"[{time.strftime('%H:%M:%S')} +{time.monotonic() - t0:5.0f}s]"
