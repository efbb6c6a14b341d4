"""The extractive reader: the offline profile's no-LLM baseline, answering with retrieved sentences.

(The MiniLM span reader, which needs torch, is in span_reader.py.)
"""

from collections.abc import Sequence
from typing import Protocol

from harness.models import minilm
from harness.text import content_tokens, sentences
from harness.values import Passage


class Reader(Protocol):
    """Reads each question's passages into an answer text."""

    def read(self, questions: Sequence[str], contexts: Sequence[Sequence[Passage]]) -> list[str]: ...


class ExtractiveReader:
    """Picks the retrieved sentence(s) that best match the question.

    A sentence's score is its MiniLM cosine similarity to the question plus `lexical_weight` times the
    share of the question's content words it contains. It never writes words of its own, so it cannot
    invent facts, but it also cannot say "not in the documents".
    """

    def __init__(self, max_sentences: int = 1, lexical_weight: float = 0.5) -> None:
        self.max_sentences = max_sentences
        self.lexical_weight = lexical_weight

    def read(self, questions: Sequence[str], contexts: Sequence[Sequence[Passage]]) -> list[str]:
        candidates = [[s for passage in passages for s in sentences(passage.text)] for passages in contexts]
        flat = [s for group in candidates for s in group]
        vectors = minilm.embed(list(questions) + flat)
        question_vectors, sentence_vectors = vectors[: len(questions)], vectors[len(questions) :]
        answers, offset = [], 0
        for row, (question, group) in enumerate(zip(questions, candidates, strict=True)):
            if not group:
                answers.append("")
                continue
            wanted = content_tokens(question)
            similarity = sentence_vectors[offset : offset + len(group)] @ question_vectors[row]
            offset += len(group)
            scored = []
            for index, sentence in enumerate(group):
                overlap = len(wanted & content_tokens(sentence)) / len(wanted) if wanted else 0.0
                scored.append((float(similarity[index]) + self.lexical_weight * overlap, index))
            best = sorted(index for _, index in sorted(scored, reverse=True)[: self.max_sentences])
            answers.append(" ".join(group[index] for index in best))
        return answers
