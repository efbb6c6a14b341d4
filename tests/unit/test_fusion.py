"""Reciprocal rank fusion (harness.systems.retrieval.fuse) on three or four documents, worked by hand."""

import pytest

from harness.systems.retrieval import fuse


def test_two_rankings_of_four_documents() -> None:
    # BM25 ranks 0, 1, 2; dense ranks 2, 0, 3. With rrf_k = 60 each list adds 1 / (60 + rank):
    #   0: 1/61 + 1/62   2: 1/63 + 1/61   1: 1/62   3: 1/63
    fused = fuse([[0, 1, 2], [2, 0, 3]], rrf_k=60)
    assert [item for item, _ in fused] == [0, 2, 1, 3]
    expected = {0: 1 / 61 + 1 / 62, 2: 1 / 63 + 1 / 61, 1: 1 / 62, 3: 1 / 63}
    assert dict(fused) == pytest.approx(expected, abs=1e-15)


def test_the_constant_decides_between_one_first_place_and_agreement() -> None:
    # BM25 ranks 0, 1, 2 and dense ranks 3, 1, 2: documents 0 and 3 are first in one list each, 1 is second
    # in both, 2 third in both.
    rankings = [[0, 1, 2], [3, 1, 2]]
    # rrf_k = 0 adds 1 / rank: 0 and 3 get 1, 1 gets 1/2 + 1/2 = 1 (a three-way tie, lower index first),
    # 2 gets 1/3 + 1/3.
    fused = fuse(rankings, rrf_k=0)
    assert [item for item, _ in fused] == [0, 1, 3, 2]
    assert [score for _, score in fused] == pytest.approx([1.0, 1.0, 1.0, 2 / 3])
    # rrf_k = 60 flattens the ranks: agreement wins. 1: 2/62, 2: 2/63, then 0 and 3: 1/61 each.
    assert [item for item, _ in fuse(rankings, rrf_k=60)] == [1, 2, 0, 3]


def test_equal_scores_are_ordered_by_the_lower_index() -> None:
    # Each document is first in one list and second in the other: both score 1/61 + 1/62.
    fused = fuse([[3, 1], [1, 3]], rrf_k=60)
    assert [item for item, _ in fused] == [1, 3]
    assert fused[0][1] == fused[1][1]


def test_one_ranking_keeps_its_order_and_none_gives_nothing() -> None:
    assert [item for item, _ in fuse([[2, 0, 1]], rrf_k=60)] == [2, 0, 1]
    assert fuse([], rrf_k=60) == []
    assert fuse([[], []], rrf_k=60) == []
