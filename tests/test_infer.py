import math

import nibabel as nib
import numpy as np
import pytest
import torch
from torch import nn

from dtml.infer import (
    largest_component,
    postprocess,
    predict_case,
    save_nifti,
    sliding_window_probability,
    symmetric_padding,
    window_grid,
    window_starts,
)


class PointwiseNet(nn.Module):
    """A 1x1x1 conv with two outputs: translation-equivariant, so windows must not matter."""

    def __init__(self, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.conv = nn.Conv3d(1, 2, 1)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        y = self.conv(x)
        return y[:, :1], torch.tanh(y[:, 1:])


def _image(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def test_window_starts_follow_the_official_formula():
    assert window_starts(148, 112, 18) == [0, 18, 36]
    assert window_starts(141, 112, 18) == [0, 18, 29]  # last window aligned to the end
    assert window_starts(88, 80, 4) == [0, 4, 8]
    assert window_starts(112, 112, 18) == [0]
    with pytest.raises(ValueError, match="shorter"):
        window_starts(100, 112, 18)


@pytest.mark.parametrize("shape", [(148, 141, 88), (244, 147, 88), (100, 120, 70)])
def test_window_count_matches_official_formula_and_covers_every_voxel(shape):
    patch, stride = (112, 112, 80), (18, 18, 4)
    grid = window_grid(shape, patch, stride)
    padded = [max(n, p) for n, p in zip(shape, patch, strict=True)]
    expected = math.prod(
        math.ceil((n - p) / s) + 1 for n, p, s in zip(padded, patch, stride, strict=True)
    )
    assert len(grid) == expected == len(set(grid))
    if shape == (148, 141, 88):
        assert len(grid) == 27
    cover = np.zeros(padded, dtype=int)
    for x, y, z in grid:
        cover[x : x + 112, y : y + 112, z : z + 80] += 1
    assert cover.min() >= 1


def test_symmetric_padding_puts_the_smaller_half_first():
    assert symmetric_padding((100, 120, 75), (112, 112, 80)) == ((6, 6), (0, 0), (2, 3))


def test_constant_predictor_gives_constant_map_of_the_original_shape():
    image = _image((9, 7, 5))  # smaller than the patch along x and z: padded then cropped
    prob = sliding_window_probability(
        image, lambda x: torch.full_like(x, 0.25), patch=(10, 4, 6), stride=(3, 2, 2)
    )
    assert prob.shape == image.shape and prob.dtype == np.float32
    np.testing.assert_array_equal(prob, np.float32(0.25))


def test_counts_are_averaged_not_summed():
    # predict = position of the voxel inside its window: the average is known in closed form.
    def predict(x):
        idx = torch.arange(x.shape[2], dtype=x.dtype).view(1, 1, -1, 1, 1)
        return idx.expand_as(x).clone()

    prob = sliding_window_probability(np.zeros((6, 2, 2)), predict, (4, 2, 2), (2, 1, 1))
    # windows start at 0 and 2 along x: voxel 2 is position 2 in one and 0 in the other.
    np.testing.assert_allclose(prob[:, 0, 0], [0, 1, 1, 2, 2, 3])


def test_padding_sees_zeros_and_is_cropped():
    # predict = the input itself: any padded zero leaking into the output would show.
    image = _image((5, 6, 3), seed=1)
    prob = sliding_window_probability(image, lambda x: x.clone(), patch=(8, 4, 4), stride=(2, 2, 1))
    np.testing.assert_allclose(prob, image, rtol=1e-6)


@pytest.mark.parametrize("mode", ["seg", "sdf"])
def test_sliding_window_equals_dense_evaluation_for_an_equivariant_net(mode):
    net = PointwiseNet()
    image = _image((13, 11, 9), seed=2)
    prob = predict_case(image, net, net, mode=mode, k=3.0, patch=(8, 6, 4), stride=(3, 2, 3))
    with torch.no_grad():
        seg, sdf = net(torch.from_numpy(image)[None, None])
    dense = torch.sigmoid(seg) if mode == "seg" else torch.sigmoid(-3.0 * sdf)
    np.testing.assert_allclose(prob, dense[0, 0].numpy(), rtol=1e-5, atol=1e-6)


def test_batched_equals_unbatched():
    net = nn.Sequential(nn.Conv3d(1, 1, 3, padding=1))  # window-dependent near the borders
    image = _image((12, 10, 9), seed=3)

    def predict(x):
        return torch.sigmoid(net(x))

    kw = {"patch": (6, 6, 4), "stride": (2, 3, 2)}
    one = sliding_window_probability(image, predict, batch_size=1, **kw)
    many = sliding_window_probability(image, predict, batch_size=5, **kw)
    np.testing.assert_allclose(many, one, rtol=1e-6, atol=1e-7)


def test_each_network_runs_once_per_window_batch():
    seg, sdf = PointwiseNet(0), PointwiseNet(1)
    image = _image((10, 8, 6))
    kw = {"patch": (6, 6, 6), "stride": (2, 2, 2), "batch_size": 2}
    n_windows = len(window_grid(image.shape, (6, 6, 6), (2, 2, 2)))
    predict_case(image, seg, sdf, mode="ensemble", **kw)
    assert seg.calls == sdf.calls == math.ceil(n_windows / 2)


def test_ensemble_is_the_mean_of_the_two_maps():
    seg, sdf = PointwiseNet(0), PointwiseNet(1)
    image = _image((10, 8, 6), seed=4)
    kw = {"k": 5.0, "patch": (6, 6, 4), "stride": (3, 2, 1)}
    p_seg = predict_case(image, seg, sdf, mode="seg", **kw)
    p_sdf = predict_case(image, seg, sdf, mode="sdf", **kw)
    p_ens = predict_case(image, seg, sdf, mode="ensemble", **kw)
    np.testing.assert_allclose(p_ens, (p_seg + p_sdf) / 2, rtol=1e-6, atol=1e-7)
    assert not np.allclose(p_seg, p_sdf)  # otherwise the test would not test anything


def test_predict_case_restores_training_mode_and_checks_arguments():
    net = nn.Sequential(nn.Conv3d(1, 1, 1), nn.Dropout3d(0.5))

    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = net

        def forward(self, x):
            y = self.body(x)
            return y, y

    two = Two().train()
    image = _image((6, 6, 6))
    a = predict_case(image, two, patch=(4, 4, 4), stride=(2, 2, 2))
    b = predict_case(image, two, patch=(4, 4, 4), stride=(2, 2, 2))
    np.testing.assert_array_equal(a, b)  # eval mode: dropout off, deterministic
    assert two.training
    with pytest.raises(ValueError, match="sdf_net"):
        predict_case(image, two, mode="ensemble")
    with pytest.raises(ValueError, match="seg_net"):
        predict_case(image, sdf_net=two, mode="seg")
    with pytest.raises(ValueError, match="mode"):
        predict_case(image, two, two, mode="mean")
    with pytest.raises(ValueError, match="tuple"):
        predict_case(image, nn.Conv3d(1, 1, 1), patch=(4, 4, 4), stride=(2, 2, 2))


def test_bad_predictor_shape_and_bad_arguments():
    image = _image((6, 6, 6))
    with pytest.raises(ValueError, match="returned shape"):
        sliding_window_probability(image, lambda x: x[:, :, :2], (4, 4, 4), (2, 2, 2))
    with pytest.raises(ValueError, match="patch"):
        sliding_window_probability(image, torch.sigmoid, (4, 4), (2, 2, 2))
    with pytest.raises(ValueError, match="image"):
        sliding_window_probability(image[0], torch.sigmoid, (4, 4, 4), (2, 2, 2))


def test_bf16_autocast_stays_close():
    net = PointwiseNet()
    image = _image((8, 8, 8), seed=5)
    kw = {"patch": (4, 4, 4), "stride": (2, 2, 2)}
    full = predict_case(image, net, **kw)
    half = predict_case(image, net, autocast_dtype=torch.bfloat16, **kw)
    assert half.dtype == np.float32
    np.testing.assert_allclose(half, full, atol=2e-2)


def _ball(shape, centre, r):
    g = np.indices(shape)
    return ((g - np.array(centre)[:, None, None, None]) ** 2).sum(0) <= r * r


def test_largest_component_keeps_the_bigger_blob_and_is_safe_when_empty():
    big, small = _ball((20, 20, 20), (5, 5, 5), 4), _ball((20, 20, 20), (15, 15, 15), 2)
    out = largest_component((big | small).astype(np.uint8))
    np.testing.assert_array_equal(out, big)
    empty = largest_component(np.zeros((4, 5, 6), dtype=bool))
    assert empty.shape == (4, 5, 6) and not empty.any()


def test_largest_component_uses_26_connectivity():
    m = np.zeros((5, 5, 5), dtype=bool)
    m[1, 1, 1] = m[2, 2, 2] = m[3, 3, 3] = True  # corner-touching diagonal: one component
    m[0, 4, 4] = m[0, 4, 3] = True  # two face-connected voxels, far away
    np.testing.assert_array_equal(largest_component(m), _diag(m.shape))
    with pytest.raises(ValueError, match="binary"):
        largest_component(np.full((3, 3, 3), 2))


def _diag(shape):
    d = np.zeros(shape, dtype=bool)
    d[1, 1, 1] = d[2, 2, 2] = d[3, 3, 3] = True
    return d


def test_postprocess_thresholds_strictly_and_applies_lcc():
    prob = np.zeros((10, 10, 10), dtype=np.float32)
    prob[1:4, 1:4, 1:4] = 0.9
    prob[7, 7, 7] = 0.8
    prob[5, 5, 5] = 0.5  # not above the threshold
    out = postprocess(prob)
    assert out.dtype == np.uint8 and out.sum() == 27
    assert postprocess(prob, lcc=False).sum() == 28
    assert postprocess(np.zeros((3, 3, 3))).sum() == 0


def test_nifti_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    prob = rng.random((6, 5, 4)).astype(np.float32)
    mask = prob > 0.5
    spacing, origin = (0.625, 0.7, 1.25), (10.0, -5.0, 2.5)
    save_nifti(tmp_path / "prob.nii.gz", prob, spacing, origin)
    save_nifti(tmp_path / "mask.nii.gz", mask, spacing)
    p = nib.load(tmp_path / "prob.nii.gz")
    m = nib.load(tmp_path / "mask.nii.gz")
    np.testing.assert_allclose(p.header.get_zooms(), spacing, rtol=1e-6)
    np.testing.assert_allclose(p.affine[:3, 3], origin)
    np.testing.assert_allclose(p.affine[:3, :3], np.diag(spacing), rtol=1e-6)
    np.testing.assert_array_equal(p.get_fdata(dtype=np.float32), prob)
    assert m.get_data_dtype() == np.uint8
    np.testing.assert_array_equal(np.asarray(m.dataobj), mask.astype(np.uint8))
    with pytest.raises(ValueError, match="spacing"):
        save_nifti(tmp_path / "x.nii", prob, (1.0, 1.0))


class ConvNet(nn.Module):
    """A 3x3x3 conv (zero padded): its output depends on where the window cuts the volume."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv3d(1, 2, 3, padding=1)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        y = self.conv(x)
        return y[:, :1], torch.tanh(y[:, 1:])


def test_official_style_reference_agrees_and_calls_the_net_twice_per_window():
    from dtml.bench.inference import sliding_window_reference

    image = _image((11, 9, 5), seed=6)  # z shorter than the patch: padded
    kw = {"patch": (6, 6, 6), "stride": (2, 4, 3)}
    net = ConvNet()
    ref = sliding_window_reference(image, net, **kw)
    assert net.calls == 2 * len(window_grid(image.shape, **kw))
    ours = predict_case(image, net, batch_size=3, **kw)
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-7)


def test_inference_benchmark_reports_identical_labels(capsys):
    from dtml.bench.inference import run

    threads = torch.get_num_threads()
    out = run(
        ["--filters", "2", "--shape", "20,18,16", "--patch", "16,16,16", "--stride", "4,8,8"]
        + ["--repeats", "1", "--device", "cpu", "--threads", "1"]
    )
    assert out["identical"] is True and out["windows"] == 2 * 2 * 1
    assert out["bench"] == "inference" and out["ratio"] > 0
    assert out["config"]["threads"] == 1 and torch.get_num_threads() == threads
    assert '"bench": "inference"' in capsys.readouterr().out
