"""ROUGE computed for a whole run in one `evaluate` call equals ROUGE computed case by case."""

import random

import pytest
from rouge_score import rouge_scorer

from harness.metrics import lexical

WORDS = "the a cat dog sat ran on under mat rug red blue quickly 12 km/h Fernhollow".split()


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 9)))


def test_one_call_for_a_run_gives_what_rouge_score_gives_per_pair(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(7)
    pairs = [
        (sentence(rng), tuple(sentence(rng) or "x" for _ in range(rng.randint(1, 3)))) for _ in range(200)
    ]
    monkeypatch.setattr(lexical, "_ROUGE_MEMO", {})
    calls = []
    batch = lexical._rouge_batch
    monkeypatch.setattr(lexical, "_rouge_batch", lambda todo: calls.append(len(todo)) or batch(todo))
    lexical.prefetch_rouge(pairs)
    assert calls == [len(set(pairs))]  # one call for the run
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"])
    for prediction, references in pairs:
        got = lexical.rouge_scores(prediction, references)  # from the memo: no further call
        for name in ("rouge1", "rouge2", "rougeL"):
            want = max(scorer.score(reference, prediction)[name].fmeasure for reference in references)
            assert got[name] == pytest.approx(want, abs=1e-12)
    assert calls == [len(set(pairs))]
    lexical.prefetch_rouge(pairs)  # everything known: nothing computed again
    assert calls == [len(set(pairs))]
