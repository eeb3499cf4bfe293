"""Run-folder helpers: the commit and hardware recorded in a run's provenance."""

import torch

from dtml.report.render import short_hardware
from dtml.runs import git_commit, hardware


def test_commit_of_a_tree_without_git_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("DTML_COMMIT", raising=False)
    assert git_commit(tmp_path) == "unknown"
    monkeypatch.setenv("DTML_COMMIT", "abc1234")
    assert git_commit(tmp_path) == "abc1234"


def test_a_git_checkout_ignores_the_environment(monkeypatch):
    monkeypatch.setenv("DTML_COMMIT", "abc1234")
    assert git_commit() != "abc1234"  # this repository has .git


def test_cpu_hardware_names_threads_and_vector_unit():
    name = hardware("cpu")
    isa = torch.backends.cpu.get_cpu_capability()  # picks oneDNN's kernels, hence the numbers
    assert name.endswith(f"({torch.get_num_threads()} threads, {isa})")
    assert short_hardware(name) == f"CPU, {torch.get_num_threads()} threads, {isa}"
