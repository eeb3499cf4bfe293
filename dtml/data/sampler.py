"""The two-stream batch sampler (official setting: 2 labeled + 2 unlabeled per batch).

The labeled stream is a fresh permutation every "epoch" (one pass over the labeled cases); the
unlabeled stream is an endless chain of permutations. Both are pure functions of (seed, iteration),
so a resumed run draws exactly the batches an uninterrupted run would have drawn.

Two unlabeled streams, chosen by the config's ``pipeline``:

- pipeline 2 (the authors' behaviour): PyTorch re-creates the official "eternal" unlabeled
  iterator at every epoch, so each 8-iteration epoch draws its 16 unlabeled scans from the head of
  a fresh permutation (a scan can repeat across epochs before all 64 were seen).
- pipeline 1 (sessions 1-2, kept so that their runs stay repeatable): one endless chain of whole
  permutations, so every unlabeled scan is seen once per 64/2 = 32 iterations.
"""

from __future__ import annotations

import numpy as np


def _permutation(seed: int, stream: int, index: int, n: int) -> np.ndarray:
    return np.random.default_rng([seed, stream, index]).permutation(n)


def batch_indices(
    iteration: int,
    n_labeled: int,
    n_unlabeled: int,
    labeled_bs: int,
    unlabeled_bs: int,
    seed: int,
    pipeline: int = 2,
) -> tuple[np.ndarray, np.ndarray]:
    """(labeled indices, unlabeled indices) of the batch at ``iteration``.

    Labeled: epoch e = iteration // (n_labeled // labeled_bs) uses permutation e, cut into
    consecutive chunks (the remainder of n_labeled % labeled_bs is dropped, as in the official
    sampler). Unlabeled: consecutive chunks of a chain of permutations that restarts every epoch
    (pipeline 2) or never (pipeline 1).
    """
    if n_labeled < labeled_bs:
        raise ValueError(f"{n_labeled} labeled cases cannot fill a labeled batch of {labeled_bs}")
    if unlabeled_bs and n_unlabeled < 1:
        raise ValueError("unlabeled_bs > 0 but there are no unlabeled cases")
    per_epoch = n_labeled // labeled_bs
    epoch, slot = divmod(iteration, per_epoch)
    lab = _permutation(seed, 0, epoch, n_labeled)[slot * labeled_bs : (slot + 1) * labeled_bs]
    unl = np.empty(unlabeled_bs, dtype=np.int64)
    for j in range(unlabeled_bs):
        if pipeline == 1:
            flat = iteration * unlabeled_bs + j
            unl[j] = _permutation(seed, 1, flat // n_unlabeled, n_unlabeled)[flat % n_unlabeled]
        else:
            flat = slot * unlabeled_bs + j  # position in this epoch's fresh chain
            stream = [epoch, flat // n_unlabeled]
            unl[j] = np.random.default_rng([seed, 3, *stream]).permutation(n_unlabeled)[
                flat % n_unlabeled
            ]
    return lab, unl
