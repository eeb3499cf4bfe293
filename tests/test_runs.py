"""Run-folder helpers: the commit and hardware recorded in a run's provenance."""

import pytest
import torch

from dtml.report.hardware import hardware_text, short_hardware
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
    threads = torch.get_num_threads()
    assert short_hardware(name) == f"CPU, {threads} thread{'s' if threads > 1 else ''}, {isa}"


@pytest.mark.parametrize(
    ("recorded", "shown"),
    [
        ("AMD EPYC (1 threads, AVX512)", "AMD EPYC (1 thread, AVX512)"),
        ("AMD EPYC (1 threads)", "AMD EPYC (1 thread)"),
        ("AMD EPYC (2 threads, AVX2)", "AMD EPYC (2 threads, AVX2)"),
        ("AMD EPYC (11 threads)", "AMD EPYC (11 threads)"),
        ("NVIDIA H200", "NVIDIA H200"),
    ],
)
def test_hardware_reads_as_prose_and_one_thread_is_singular(recorded, shown):
    assert hardware_text(recorded) == shown
    assert short_hardware(recorded).startswith("CPU, 1 thread,") == recorded.startswith(
        "AMD EPYC (1 threads,"
    )
