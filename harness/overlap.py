"""Train/test overlap of a suite: what a closed-book fine-tuned model can answer by recalling its train."""

from collections.abc import Callable, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict

from harness.suite import Suite
from harness.text import normalise

# Two questions whose MiniLM embeddings have cosine >= 0.9 ask the same thing in other words (e.g. "When does
# the garden open?" / "What time does the garden open?"); below ~0.85 they are usually about different facts
# of one entity. 0.9 errs towards calling fewer pairs duplicates, so the share reported is a lower bound.
NEAR_DUPLICATE_COSINE = 0.9

Embed = Callable[[list[str]], np.ndarray]


class Overlap(BaseModel):
    """How much of a suite's test split its train split already contains, counted per test case."""

    model_config = ConfigDict(frozen=True)
    suite: str
    n_test: int
    n_train: int
    threshold: float
    shared_references: tuple[str, ...]
    """Test case ids with an accepted answer whose normalised text equals some train case's (all of each
    case's references are compared)."""
    exact_duplicate_questions: tuple[str, ...]
    """Test case ids whose normalised question equals some train question."""
    near_duplicate_questions: tuple[str, ...]
    """Test case ids with a train question at MiniLM cosine >= threshold (exact duplicates included)."""
    shared_gold: tuple[str, ...]
    """Test case ids with a gold passage that is also gold for some train question."""

    def counts(self) -> dict[str, int]:
        return {
            "n_test": self.n_test,
            "n_train": self.n_train,
            "shared_references": len(self.shared_references),
            "exact_duplicate_questions": len(self.exact_duplicate_questions),
            "near_duplicate_questions": len(self.near_duplicate_questions),
            "shared_gold": len(self.shared_gold),
        }

    def lines(self) -> list[str]:
        """The overlap as sentences, each with its count and share; empty when there is no train split."""
        if not self.n_train:
            return []
        n = self.n_test

        def share(ids: Sequence[str]) -> str:
            return f"{len(ids)} of {n} ({100 * len(ids) / n:.0f}%)" if n else "0 of 0"

        return [
            f"{share(self.shared_references)} test answers are also train answers: on these, a closed-book "
            "fine-tuned system's score measures recall of answers it was trained on",
            f"{share(self.near_duplicate_questions)} test questions have a near-duplicate train question "
            f"(MiniLM cosine >= {self.threshold:g}; {len(self.exact_duplicate_questions)} identical after "
            "normalisation)",
            f"{share(self.shared_gold)} test questions have a gold passage that is also gold for a train "
            "question",
        ]


def _minilm(texts: list[str]) -> np.ndarray:
    from harness.models.minilm import embed

    return embed(texts)


def suite_overlap(suite: Suite, embed: Embed = _minilm, threshold: float = NEAR_DUPLICATE_COSINE) -> Overlap:
    """Count each kind of train/test overlap of a suite (references, questions, gold passages).

    Args:
        embed: texts -> unit-length rows; MiniLM by default (tests inject a stand-in).
    """
    train, test = suite.train, suite.test
    train_refs = {normalise(ref) for case in train for ref in case.references if normalise(ref)}
    train_questions = {normalise(case.question) for case in train}
    train_gold = {gold for case in train for gold in case.gold_ids}
    shared_refs = [c.id for c in test if any(normalise(ref) in train_refs for ref in c.references)]
    exact = [c.id for c in test if normalise(c.question) in train_questions]
    near = set(exact)
    if train and test:
        train_vectors = embed([case.question for case in train])
        test_vectors = embed([case.question for case in test])
        # Blocks of test rows keep the similarity matrix small on a scaled-up suite.
        for start in range(0, len(test), 1024):
            best = (test_vectors[start : start + 1024] @ train_vectors.T).max(axis=1)
            near.update(test[start + i].id for i in np.flatnonzero(best >= threshold))
    shared_gold = [c.id for c in test if any(gold in train_gold for gold in c.gold_ids)]
    order = {case.id: index for index, case in enumerate(test)}
    return Overlap(
        suite=suite.name,
        n_test=len(test),
        n_train=len(train),
        threshold=threshold,
        shared_references=tuple(shared_refs),
        exact_duplicate_questions=tuple(exact),
        near_duplicate_questions=tuple(sorted(near, key=order.__getitem__)),
        shared_gold=tuple(shared_gold),
    )


__all__ = ["NEAR_DUPLICATE_COSINE", "Overlap", "suite_overlap"]
