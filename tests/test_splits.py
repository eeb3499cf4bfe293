import pytest

from dtml.data.splits import make_split, official_list


def test_official_lists_are_shipped():
    train, test = official_list("train.list"), official_list("test.list")
    assert len(train) == 80 and len(test) == 20 and not set(train) & set(test)


def test_paper_split_is_first_16_labeled():
    train = official_list()
    s = make_split("paper", train, official_list("test.list"))
    assert s.labeled == tuple(train[:16]) and s.unlabeled == tuple(train[16:])
    assert s.summary() == {"labeled": 16, "unlabeled": 64, "val": 0, "test": 20}


@pytest.mark.parametrize("n", [4, 8, 16])
def test_dev_split_carves_validation_from_the_end(n):
    train = official_list()
    s = make_split("dev", train, labeled_count=n)
    assert s.val == tuple(train[-16:]) and s.labeled == tuple(train[:n])
    assert len(s.unlabeled) == 64 - n
    assert not (set(s.labeled) | set(s.unlabeled)) & set(s.val)


def test_invalid_splits_raise():
    train = official_list()
    with pytest.raises(ValueError, match="labeled_count=80"):
        make_split("dev", train, labeled_count=80)
    with pytest.raises(ValueError, match="unknown split"):
        make_split("test", train)
    with pytest.raises(ValueError, match="duplicates"):
        make_split("paper", train + train[:1])
