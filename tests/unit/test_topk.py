"""The dense retriever's partial sort returns exactly what a stable descending argsort returns."""

import numpy as np
import pytest

from harness.systems.retrieval import top_indices


@pytest.mark.parametrize("seed", range(5))
def test_top_indices_equal_a_stable_argsort_with_and_without_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(400):
        n, depth = int(rng.integers(1, 50)), int(rng.integers(0, 60))
        scores = rng.integers(0, 4, size=n).astype(np.float32) if rng.random() < 0.5 else rng.random(n)
        assert np.array_equal(top_indices(scores, depth), np.argsort(-scores, kind="stable")[:depth])


def test_ties_at_the_cut_go_to_the_lower_index() -> None:
    assert top_indices(np.array([0.5, 0.9, 0.5, 0.5, 0.1]), 3).tolist() == [1, 0, 2]
