"""MiniLM embeds each distinct text once per process and hands back the same vector to the next caller."""

import numpy as np

from harness.models import minilm


def test_a_text_embedded_before_is_not_encoded_again(monkeypatch) -> None:
    first = minilm.embed(["The gate opens at dawn.", "Bees visit the clover."])
    asked: list[list[str]] = []
    encode = minilm.encoder().encode

    def spy(texts, **kwargs):
        asked.append(list(texts))
        return encode(texts, **kwargs)

    monkeypatch.setattr(minilm.encoder(), "encode", spy)
    again = minilm.embed(["Bees visit the clover.", "A new sentence.", "A new sentence."])
    assert asked == [["A new sentence."]]  # only the unseen text, once although asked twice
    assert np.array_equal(again[0], first[1]) and np.array_equal(again[1], again[2])
    alone = encode(["A new sentence."], normalize_embeddings=True, convert_to_numpy=True)
    assert np.allclose(again[1], alone[0], atol=1e-6)


def test_the_memo_keeps_at_most_its_size(monkeypatch) -> None:
    monkeypatch.setattr(minilm, "MEMO_SIZE", 3)
    minilm.embed([f"sentence number {n}" for n in range(5)])
    assert len(minilm._memo) == 3
    assert "sentence number 4" in minilm._memo and "sentence number 0" not in minilm._memo
