"""Run-folder helpers: the commit recorded in a run's provenance."""

from dtml.runs import git_commit


def test_commit_of_a_tree_without_git_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("DTML_COMMIT", raising=False)
    assert git_commit(tmp_path) == "unknown"
    monkeypatch.setenv("DTML_COMMIT", "abc1234")
    assert git_commit(tmp_path) == "abc1234"


def test_a_git_checkout_ignores_the_environment(monkeypatch):
    monkeypatch.setenv("DTML_COMMIT", "abc1234")
    assert git_commit() != "abc1234"  # this repository has .git
