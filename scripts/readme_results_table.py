"""Print the README's results table from results/cpu_dev/table{2,3}.json (committed results only)."""

import json
import sys
from pathlib import Path

out = Path(sys.argv[1] if len(sys.argv) > 1 else "results/cpu_dev")
rows = {
    r["label"]: r for n in (2, 3) for r in json.loads((out / f"table{n}.json").read_text())["rows"]
}
SHOW = [
    ("V-Net (lower bound)", "V-Net lower bound (16 labeled) = M_s only"),
    ("M_d only", "M_d only (16 labeled)"),
    ("DTML (labeled only)", "DTML, labeled only (Table 2)"),
    ("DTML", "DTML (16 labeled + 48 unlabeled)"),
    ("V-Net (upper bound)", "V-Net upper bound (64 labeled; paper: 80)"),
]


def pm(mean, std):
    return f"{mean:.2f}" + (f" ± {std:.2f}" if std is not None else "")


print(
    "| row | seeds | ours Dice % (over seeds) | ours Dice % (over cases) | ours 95HD vox | paper Dice % | paper 95HD vox | wall time / run |"
)
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for label, name in SHOW:
    r = rows[label]
    if r["status"] != "ok":
        print(
            f"| {name} | – | {r['status']} | | | {r['paper_dice']:.2f} | {r['paper_hd95_vox']:.2f} | |"
        )
        continue
    walls = ", ".join(f"{float(w) / 60:.0f}" for w in str(r["wall_s_per_run"]).split(";"))
    print(
        f"| {name} | {r['n_seeds']} | {pm(r['dice_seeds_mean'], r['dice_seeds_std'])} | "
        f"{pm(r['dice_cases_mean'], r['dice_cases_std'])} | {r['hd95_vox_seeds_mean']:.2f} | "
        f"{r['paper_dice']:.2f} | {r['paper_hd95_vox']:.2f} | {walls} min |"
    )
