"""``python -m dtml.bench train-step|inference|sdf [options]``: one JSON line per benchmark."""

from __future__ import annotations

import importlib
import sys

BENCHES = {
    "train-step": "dtml.bench.train_step",
    "inference": "dtml.bench.inference",
    "sdf": "dtml.bench.sdf",
}


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in BENCHES:
        raise SystemExit(f"usage: python -m dtml.bench {{{'|'.join(BENCHES)}}} [options]")
    importlib.import_module(BENCHES[argv[0]]).run(argv[1:])


if __name__ == "__main__":
    main()
