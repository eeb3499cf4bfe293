from pathlib import Path

import pytest
import torch

from dtml.nets import VNet, count_parameters, load_official_state_dict, to_official_state_dict

TSV = Path(__file__).parent / "data" / "official_vnet_state_dict.tsv"


def official_shapes() -> dict[str, str]:
    rows = [line.rstrip("\n").split("\t") for line in TSV.read_text().splitlines()]
    return {r[0]: r[1] for r in rows if not r[0].startswith("#")}


def test_paper_network_has_official_parameter_count():
    assert count_parameters(VNet()) == 9_448_866


def test_official_key_names_and_shapes():
    sd = to_official_state_dict(VNet())
    ours = {k: "x".join(map(str, v.shape)) if v.dim() else "scalar" for k, v in sd.items()}
    assert ours == official_shapes()


def test_official_round_trip_gives_identical_outputs():
    torch.manual_seed(0)
    a, b = VNet(base_filters=2).eval(), VNet(base_filters=2).eval()
    sd = {f"module.{k}": v for k, v in to_official_state_dict(a).items()}  # DataParallel prefix
    load_official_state_dict(b, sd)
    x = torch.randn(1, 1, 16, 16, 16)
    for out_a, out_b in zip(a(x), b(x), strict=True):
        assert torch.equal(out_a, out_b)


def test_load_official_rejects_foreign_keys():
    sd = to_official_state_dict(VNet(base_filters=2))
    sd["block_ten.conv.0.weight"] = torch.zeros(1)
    with pytest.raises(ValueError, match="block_ten"):
        load_official_state_dict(VNet(base_filters=2), sd)


def test_forward_returns_logits_and_tanh_sdf():
    net = VNet(base_filters=2).eval()
    seg, sdf = net(torch.randn(2, 1, 16, 32, 16) * 10)
    assert seg.shape == sdf.shape == (2, 1, 16, 32, 16)
    assert sdf.abs().max() <= 1


def test_dropout_only_in_training():
    torch.manual_seed(0)
    net = VNet(base_filters=2)
    x = torch.randn(2, 1, 16, 16, 16)
    net.eval()
    assert torch.equal(net(x)[0], net(x)[0])
    net.train()
    assert not torch.equal(net(x)[0], net(x)[0])


def test_input_not_divisible_by_16_is_rejected():
    with pytest.raises(ValueError, match="divisible by 16"):
        VNet(base_filters=2)(torch.zeros(1, 1, 16, 16, 20))
