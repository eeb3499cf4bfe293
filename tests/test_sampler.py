import numpy as np
import pytest

from dtml.data.sampler import batch_indices


def test_labeled_stream_visits_every_case_once_per_epoch():
    n, bs = 16, 2
    epoch = [batch_indices(it, n, 64, bs, 2, seed=3)[0] for it in range(n // bs)]
    assert sorted(np.concatenate(epoch).tolist()) == list(range(n))
    next_epoch = [batch_indices(it, n, 64, bs, 2, seed=3)[0] for it in range(8, 16)]
    assert sorted(np.concatenate(next_epoch).tolist()) == list(range(n))
    assert not np.array_equal(np.concatenate(epoch), np.concatenate(next_epoch))


def test_pipeline1_unlabeled_stream_is_a_chain_of_permutations():
    n_u = 10
    drawn = np.concatenate(
        [batch_indices(it, 4, n_u, 2, 2, seed=0, pipeline=1)[1] for it in range(15)]
    )
    for start in range(0, 30, n_u):  # 15 batches x 2 = 3 full permutations
        assert sorted(drawn[start : start + n_u].tolist()) == list(range(n_u))


def test_pipeline2_unlabeled_stream_restarts_every_epoch():
    """The official sampler: each 8-iteration epoch takes the head of a fresh permutation, so an
    epoch never repeats a scan, while consecutive epochs may (and here do) share scans."""
    n_l, n_u, bs = 16, 64, 2
    epochs = [
        np.concatenate(
            [batch_indices(e * 8 + s, n_l, n_u, bs, bs, seed=1)[1] for s in range(n_l // bs)]
        )
        for e in range(20)
    ]
    assert all(len(set(ep.tolist())) == 16 for ep in epochs)  # without replacement in an epoch
    first_32 = np.concatenate(epochs[:4])  # 64 draws: a chain would cover all 64 scans
    assert len(set(first_32.tolist())) < n_u


def test_pipeline2_chains_when_an_epoch_needs_more_than_all_unlabeled():
    n_u = 3  # 8 iterations x 2 = 16 draws per epoch from 3 scans: whole permutations chained
    drawn = np.concatenate([batch_indices(it, 16, n_u, 2, 2, seed=0)[1] for it in range(8)])
    for start in range(0, 15, n_u):
        assert sorted(drawn[start : start + n_u].tolist()) == list(range(n_u))


def test_batches_are_pure_functions_of_seed_and_iteration():
    a = batch_indices(123, 16, 48, 2, 2, seed=1)
    b = batch_indices(123, 16, 48, 2, 2, seed=1)
    c = batch_indices(123, 16, 48, 2, 2, seed=2)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c, strict=True))


def test_remainder_of_labeled_cases_is_dropped_per_epoch():
    seen = np.concatenate([batch_indices(it, 5, 4, 2, 0, seed=0)[0] for it in range(2)])
    assert len(set(seen.tolist())) == 4  # 5 // 2 = 2 batches per epoch, one case left out


def test_invalid_streams_raise():
    with pytest.raises(ValueError, match="labeled"):
        batch_indices(0, 1, 4, 2, 2, seed=0)
    with pytest.raises(ValueError, match="unlabeled"):
        batch_indices(0, 4, 0, 2, 2, seed=0)
