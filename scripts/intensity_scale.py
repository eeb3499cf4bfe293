"""Per-scan intensity scale of the LA release (issue: input normalisation), for notebook 00.

    python scripts/intensity_scale.py --data DIR [--out results/intensity_scale.csv]

One row per scan of train.list and test.list: its part of the paper split (labeled = first 16 of
train.list, unlabeled = the other 64, test), and ``dtml.data.intensity.intensity_stats`` at the
native grid. Summary statistics only: no image data is written.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from dtml.data.intensity import intensity_stats
from dtml.data.la import read_case, read_list
from dtml.data.splits import make_split


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="LA-layout root with train.list and test.list")
    p.add_argument("--out", default="results/intensity_scale.csv", help="CSV to write")
    args = p.parse_args()
    split = make_split("paper", read_list(args.data), read_list(args.data, "test.list"))
    parts = {"labeled": split.labeled, "unlabeled": split.unlabeled, "test": split.test}
    rows = []
    for part, ids in parts.items():
        for case_id in ids:
            stats = intensity_stats(read_case(args.data, case_id))
            rows.append(
                {"case": case_id, "part": part, **{k: round(v, 4) for k, v in stats.items()}}
            )
    with Path(args.out).open("w", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"{args.out}: {len(rows)} scans")


if __name__ == "__main__":
    main()
