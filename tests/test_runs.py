"""Run-folder helpers: the commit and hardware recorded in a run's provenance."""

import pytest
import torch

from dtml.report.hardware import (
    hardware_text,
    run_hardware,
    short_hardware,
    speed_text,
    stretches_text,
    training_stretches,
    wall_text,
)
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


def legs(*starts):
    """A train summary whose legs start at (iteration, elapsed seconds, hardware)."""
    return {
        "hardware": starts[-1][2],
        "iterations": 3000,
        "wall_seconds": 3200.0,
        "legs": [{"from_iteration": i, "elapsed_before": e, "hardware": h} for i, e, h in starts],
    }


def test_a_run_moved_to_two_threads_trains_in_two_stretches_with_their_own_speeds():
    one, two = "AMD EPYC (1 threads, AVX512)", "AMD EPYC (2 threads, AVX512)"
    train = legs((0, 0.0, one), (600, 1000.0, one), (900, 1500.0, two))
    stretches = training_stretches(train)
    # the resume at 600 on the same hardware is no new stretch
    assert [(s.start, s.end, s.hardware) for s in stretches] == [(0, 900, one), (900, 3000, two)]
    assert [s.seconds_per_iteration for s in stretches] == pytest.approx([1500 / 900, 1700 / 2100])
    assert sum(s.seconds for s in stretches) == pytest.approx(train["wall_seconds"])
    assert stretches_text(train) == (
        "iterations 0-900 on CPU, 1 thread, AVX512 (1.67 s/it); "
        "900-3000 on CPU, 2 threads, AVX512 (0.81 s/it)"
    )


def test_a_run_on_one_hardware_is_one_stretch_and_needs_no_text():
    resumed = legs((0, 0.0, "cpu"), (1400, 1300.0, "cpu"))
    no_legs = {"hardware": "cpu", "iterations": 10, "wall_seconds": 5.0}  # before legs were kept
    for train in (resumed, no_legs):
        (stretch,) = training_stretches(train)
        assert stretch.seconds == pytest.approx(train["wall_seconds"])
        assert stretch.seconds_per_iteration == pytest.approx(
            train["wall_seconds"] / train["iterations"]
        )
        assert stretches_text(train) == ""


def test_a_run_moved_away_and_back_has_three_stretches_and_an_empty_leg_none():
    one, two = "cpu (1 threads)", "cpu (2 threads)"
    # the last leg resumed from the final checkpoint (killed before final.pt): it trained nothing
    train = legs((0, 0.0, one), (1000, 900.0, two), (2000, 1500.0, one), (3000, 3200.0, two))
    train["wall_seconds"] = 3200.0
    stretches = training_stretches(train)
    assert [(s.start, s.end, s.hardware) for s in stretches] == [
        (0, 1000, one),
        (1000, 2000, two),
        (2000, 3000, one),
    ]
    assert [s.seconds for s in stretches] == pytest.approx([900.0, 600.0, 1700.0])
    assert run_hardware(train) == [one, two, one]
    assert run_hardware({"hardware": "NVIDIA H200"}) == ["NVIDIA H200"]  # no iterations: as named


def test_wall_names_seed_vector_unit_minutes_and_speed():
    epyc = "AMD EPYC (1 threads, AVX512)"
    train = {"hardware": epyc, "wall_seconds": 8580.0, "seconds_per_iteration": 2.853}
    assert wall_text(2, train) == "s2 CPU AVX512 143 min (2.85 s/it)"
    old = {"hardware": "AMD EPYC (1 threads)", "wall_seconds": 8340.0}
    assert wall_text(1, old) == "s1 CPU 139 min"  # no vector unit, no speed recorded
    assert wall_text(3, {"hardware": "NVIDIA H200", "wall_seconds": 300.0}) == "s3 H200 5 min"
    two = {"hardware": "AMD EPYC (2 threads, AVX512)", "wall_seconds": 1800.0}
    assert wall_text(1, two) == "s1 CPU 2 threads AVX512 30 min"  # not the setting's 1 thread
    legs = [
        {"from_iteration": 0, "elapsed_before": 0.0, "hardware": epyc},
        {"from_iteration": 900, "elapsed_before": 1512.0, "hardware": two["hardware"]},
    ]
    moved = {**two, "wall_seconds": 3234.0, "iterations": 3000, "legs": legs}
    moved["seconds_per_iteration"] = 3234.0 / 3000  # the blend, never shown
    assert wall_text(1, moved) == (
        "s1 CPU 54 min (iterations 0-900 on CPU, 1 thread, AVX512 (1.68 s/it); "
        "900-3000 on CPU, 2 threads, AVX512 (0.82 s/it))"
    )
    assert speed_text(moved) == "1.68 then 0.82"
    assert speed_text(train) == "2.85" and speed_text(old) == "?"
