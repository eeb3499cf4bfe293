"""Labeled / unlabeled / validation / test splits (paper Sec. 4.1 and a dev carve-out).

``paper``: labeled = the first ``labeled_count`` ids of train.list (16 in the paper), unlabeled = the
rest of train.list, test = test.list. No validation split exists in the official setting.

``dev``: the 20 test cases are withheld in this workspace, so we carve a fixed validation set out of
train.list: the LAST ``val_count`` (16) ids. Labeled = the first ``labeled_count`` ids, unlabeled =
everything between. With 16 labeled this is 16 labeled / 48 unlabeled / 16 validation: one quarter
fewer unlabeled scans than the paper's 64, the price of an honest held-out set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

SPLITS = ("paper", "dev")
LABELED_COUNTS = (4, 8, 16, 80)  # 5/10/20/100 % of the 80 training scans, as the field reports


@dataclass(frozen=True)
class Split:
    name: str
    labeled: tuple[str, ...]
    unlabeled: tuple[str, ...]
    val: tuple[str, ...]
    test: tuple[str, ...]

    def summary(self) -> dict[str, int]:
        return {k: len(getattr(self, k)) for k in ("labeled", "unlabeled", "val", "test")}


def official_list(name: str = "train.list") -> list[str]:
    """The official LA split list shipped with the package (identical in UA-MT, DTC and DTML)."""
    text = resources.files("dtml.data").joinpath("lists", name).read_text()
    return [line.strip() for line in text.splitlines() if line.strip()]


def make_split(
    name: str,
    train_ids: Sequence[str],
    test_ids: Sequence[str] = (),
    labeled_count: int = 16,
    val_count: int = 16,
) -> Split:
    """Build a split from ordered train ids (file order matters: the first ids are labeled)."""
    train_ids = tuple(train_ids)
    if name not in SPLITS:
        raise ValueError(f"unknown split '{name}', expected one of {SPLITS}")
    if len(set(train_ids)) != len(train_ids):
        raise ValueError("train ids contain duplicates")
    if name == "paper":
        if not 1 <= labeled_count <= len(train_ids):
            raise ValueError(f"labeled_count={labeled_count} outside 1..{len(train_ids)}")
        return Split(
            name, train_ids[:labeled_count], train_ids[labeled_count:], (), tuple(test_ids)
        )
    pool = len(train_ids) - val_count
    if val_count < 1 or pool < 1:
        raise ValueError(f"val_count={val_count} leaves no training cases of {len(train_ids)}")
    if not 1 <= labeled_count <= pool:
        raise ValueError(
            f"labeled_count={labeled_count} outside 1..{pool} for the dev split "
            f"({len(train_ids)} train ids minus {val_count} validation)"
        )
    return Split(
        name,
        train_ids[:labeled_count],
        train_ids[labeled_count:pool],
        train_ids[pool:],
        tuple(test_ids),
    )
