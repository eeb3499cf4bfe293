import math

import numpy as np
import pytest
from medpy.metric import binary as mb
from scipy import ndimage, stats

from dtml.metrics import (
    METRIC_NAMES,
    CaseMetrics,
    case_metrics,
    holm,
    paired_ttest,
    summarize,
    volume_diagonal,
)


def _cube(shape, start, size):
    m = np.zeros(shape, dtype=bool)
    m[tuple(slice(s, s + size) for s in start)] = True
    return m


def _blob(rng, shape, p=0.15, sigma=1.5):
    # Smoothed noise thresholded: irregular, multi-component shapes, some touching the edges.
    field = ndimage.gaussian_filter(rng.standard_normal(shape), sigma)
    return field > np.quantile(field, 1 - p)


def test_identical_masks_are_perfect():
    m = _cube((12, 12, 12), (3, 3, 3), 5)
    r = case_metrics(m, m)
    assert r == CaseMetrics(dice=1.0, jaccard=1.0, asd=0.0, hd95=0.0)


def test_nested_cubes_have_analytic_dice_and_jaccard():
    big = _cube((20, 20, 20), (2, 2, 2), 10)  # 1000 voxels
    small = _cube((20, 20, 20), (2, 2, 2), 5)  # 125 voxels inside `big`
    r = case_metrics(small, big)
    assert r.dice == pytest.approx(2 * 125 / 1125)
    assert r.jaccard == pytest.approx(125 / 1000)


def test_shifted_cube_distances():
    # A 6^3 cube shifted by 2 voxels along x: the faces orthogonal to x move by 2, every other
    # surface voxel has a partner at distance <= 2, and most partners lie exactly 2 away.
    ref = _cube((20, 16, 16), (4, 5, 5), 6)
    pred = _cube((20, 16, 16), (6, 5, 5), 6)
    r = case_metrics(pred, ref)
    assert r.dice == pytest.approx(2 * 4 * 36 / (2 * 216))
    assert r.jaccard == pytest.approx(4 * 36 / (8 * 36))
    assert r.hd95 == pytest.approx(2.0)
    # P's surface: 152 voxels. Slice x=6 (P's near face): ring 20 on G's sides (0), 12 one voxel
    # and 4 two voxels from G's sides; x=7..9 rings (60) lie on G's sides (0); x=10 ring (20) is 1
    # from G's face x=9; the far face x=11 (36) is 2 from it: (12 + 8 + 20 + 72) / 152.
    assert r.asd == pytest.approx(112 / 152)


def test_sphere_in_shifted_sphere_hd95_is_the_shift():
    g = np.indices((24, 24, 24)).astype(float)
    ref = ((g - 11.5) ** 2).sum(0) <= 6.5**2
    pred = ((g - np.array([14.5, 11.5, 11.5])[:, None, None, None]) ** 2).sum(0) <= 6.5**2
    r = case_metrics(pred, ref)
    assert r.hd95 == pytest.approx(3.0, abs=0.5)
    assert r.hd95 <= 3.0 + 1e-9  # no surface voxel is farther than the shift


@pytest.mark.parametrize("seed", range(6))
def test_equals_medpy_on_random_blobs(seed):
    rng = np.random.default_rng(seed)
    shape = tuple(int(n) for n in rng.integers(8, 20, size=3))
    pred, gt = _blob(rng, shape), _blob(rng, shape)
    spacing = None if seed % 2 == 0 else tuple(rng.uniform(0.3, 2.0, size=3))
    r = case_metrics(pred, gt, spacing=spacing)
    assert r.dice == pytest.approx(mb.dc(pred, gt), rel=1e-12)
    assert r.jaccard == pytest.approx(mb.jc(pred, gt), rel=1e-12)
    assert r.asd == pytest.approx(mb.asd(pred, gt, voxelspacing=spacing), rel=1e-12)
    assert r.hd95 == pytest.approx(mb.hd95(pred, gt, voxelspacing=spacing), rel=1e-12)


def test_asd_is_directed_prediction_to_reference():
    ref = _cube((20, 20, 20), (2, 2, 2), 12)
    pred = _cube((20, 20, 20), (6, 6, 6), 4)  # deep inside ref: far from ref's surface
    forward = case_metrics(pred, ref).asd
    backward = case_metrics(ref, pred).asd
    assert forward == pytest.approx(mb.asd(pred, ref))
    assert forward != pytest.approx(backward)


def test_isotropic_spacing_scales_distances_only():
    rng = np.random.default_rng(7)
    pred, gt = _blob(rng, (14, 12, 10)), _blob(rng, (14, 12, 10))
    vox = case_metrics(pred, gt)
    mm = case_metrics(pred, gt, spacing=(0.625, 0.625, 0.625))
    assert mm.dice == vox.dice and mm.jaccard == vox.jaccard
    assert mm.asd == pytest.approx(0.625 * vox.asd)
    assert mm.hd95 == pytest.approx(0.625 * vox.hd95)


def test_anisotropic_spacing_weights_the_axis():
    ref = _cube((20, 16, 16), (4, 5, 5), 6)
    pred = _cube((20, 16, 16), (6, 5, 5), 6)  # shifted along axis 0 only
    assert case_metrics(pred, ref, spacing=(3.0, 1.0, 1.0)).hd95 == pytest.approx(6.0)
    assert case_metrics(pred, ref, spacing=(1.0, 3.0, 3.0)).hd95 == pytest.approx(2.0)


def test_both_empty_is_perfect():
    z = np.zeros((5, 6, 7), dtype=np.uint8)
    assert case_metrics(z, z) == CaseMetrics(1.0, 1.0, 0.0, 0.0)


@pytest.mark.parametrize("spacing", [None, (0.5, 1.0, 2.0)])
def test_one_empty_gets_zero_overlap_and_the_volume_diagonal(spacing):
    z = np.zeros((5, 6, 7), dtype=bool)
    m = _cube((5, 6, 7), (1, 1, 1), 2)
    diag = math.sqrt(
        sum(((n - 1) * s) ** 2 for n, s in zip((5, 6, 7), spacing or (1, 1, 1), strict=True))
    )
    assert volume_diagonal((5, 6, 7), spacing) == pytest.approx(diag)
    for pred, gt in ((z, m), (m, z)):
        r = case_metrics(pred, gt, spacing=spacing)
        assert (r.dice, r.jaccard) == (0.0, 0.0)
        assert r.asd == pytest.approx(diag) and r.hd95 == pytest.approx(diag)
    # the worst-case distance bounds every real distance in the volume
    corner_a, corner_b = _cube((5, 6, 7), (0, 0, 0), 1), _cube((5, 6, 7), (4, 5, 6), 1)
    assert case_metrics(corner_a, corner_b, spacing=spacing).hd95 == pytest.approx(diag)


def test_bad_input_raises():
    m = np.zeros((4, 4, 4), dtype=bool)
    with pytest.raises(ValueError, match="shape"):
        case_metrics(m, np.zeros((4, 4, 5), dtype=bool))
    with pytest.raises(ValueError, match="binary"):
        case_metrics(m.astype(float) + 0.5, m)
    with pytest.raises(ValueError, match="binary"):
        case_metrics(m, np.full((4, 4, 4), 2))
    with pytest.raises(ValueError, match="spacing"):
        case_metrics(m, m, spacing=(1.0, 1.0))
    with pytest.raises(ValueError, match="spacing"):
        case_metrics(m, m, spacing=(1.0, 0.0, 1.0))


def test_summarize_mean_and_sample_std():
    rows = [CaseMetrics(0.9, 0.8, 1.0, 5.0), {"dice": 0.7, "jaccard": 0.6, "asd": 3.0, "hd95": 9.0}]
    s = summarize(rows)
    assert s["n"] == 2
    assert s["dice"]["mean"] == pytest.approx(0.8)
    assert s["dice"]["std"] == pytest.approx(np.std([0.9, 0.7], ddof=1))
    assert s["hd95"]["mean"] == pytest.approx(7.0)
    assert s["hd95"]["std"] == pytest.approx(math.sqrt(8.0))
    assert set(s) == {"n", *METRIC_NAMES}


def test_summarize_single_case_and_bad_rows():
    s = summarize([CaseMetrics(0.5, 0.4, 2.0, 3.0)])
    assert s["n"] == 1 and s["asd"] == {"mean": 2.0, "std": 0.0}
    with pytest.raises(ValueError, match="empty"):
        summarize([])
    with pytest.raises(ValueError, match="hd95"):
        summarize([{"dice": 1.0, "jaccard": 1.0, "asd": 0.0}])


def test_paired_ttest_matches_scipy_and_known_value():
    a = [0.90, 0.85, 0.88, 0.92, 0.87]
    b = [0.88, 0.84, 0.85, 0.91, 0.86]
    r = paired_ttest(a, b)
    ref = stats.ttest_rel(a, b)
    assert r["t"] == pytest.approx(ref.statistic) and r["p"] == pytest.approx(ref.pvalue)
    assert r["n"] == 5 and r["mean_diff"] == pytest.approx(0.016)
    assert r["median_diff"] == pytest.approx(0.01) and r["n_higher"] == 5
    # by hand: d = [.02,.01,.03,.01,.01], t = mean(d) / (std(d, ddof=1) / sqrt(5))
    d = np.array([0.02, 0.01, 0.03, 0.01, 0.01])
    assert r["t"] == pytest.approx(d.mean() / (d.std(ddof=1) / math.sqrt(5)))
    assert paired_ttest(b, a)["t"] == pytest.approx(-r["t"])


def test_paired_ttest_median_and_count_show_a_mean_carried_by_one_case():
    a = [0.10, 0.80, 0.80, 0.80, 0.90]
    b = [0.90, 0.81, 0.79, 0.82, 0.88]  # a loses one case by 0.8, the rest are within 0.02
    r = paired_ttest(a, b)
    assert r["mean_diff"] == pytest.approx(-0.16)
    assert r["median_diff"] == pytest.approx(-0.01) and r["n_higher"] == 2
    assert paired_ttest(b, a)["n_higher"] == 3  # ties would count on neither side


def test_wilcoxon_p_sees_a_consistent_gain_that_one_huge_case_hides_from_the_t_test():
    d = np.array([1.0, 2, 3, 4, 5, 6, 7, 100])  # every case gains, one by far the most
    r = paired_ttest(d, np.zeros_like(d))
    # exact signed-rank test: only "all positive" and "all negative" are as extreme: 2 / 2^8
    assert r["p_wilcoxon"] == pytest.approx(2 / 2**8)
    assert r["p"] > 0.2  # the one huge difference inflates the t-test's variance
    assert math.isnan(paired_ttest([0.5, 0.6], [0.5, 0.6])["p_wilcoxon"])  # nothing to rank


def test_holm_matches_a_hand_computation_in_input_order():
    # sorted: .005*4 = .02, .01*3 = .03, .03*2 = .06, .04*1 = .04 -> running max .02 .03 .06 .06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # capped at 1
    assert holm([0.036]) == pytest.approx([0.036])  # one test: nothing to correct
    with pytest.raises(ValueError, match="holm"):
        holm([0.1, float("nan")])


def test_paired_ttest_rejects_bad_lengths():
    with pytest.raises(ValueError, match="3"):
        paired_ttest([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="at least 2"):
        paired_ttest([1.0], [2.0])
