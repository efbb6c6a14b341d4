"""The generative systems of the hf profile: rag, finetuned (closed-book) and hybrid around one causal LM."""

import gc
import random
import time
from collections.abc import Sequence

import torch

from harness.cache import Cache
from harness.errors import InputError
from harness.models import hf
from harness.suite import Case, Passage, Suite
from harness.system import Answer, SystemSpec, prompt_path
from harness.systems.retrieval import Retriever


def fill(template: str, question: str, passages: Sequence[Passage] | None = None) -> str:
    """The template with its placeholders replaced (plain replace: passages may contain braces)."""
    context = "\n\n".join(
        f"[{number}] {p.title + ': ' if p.title else ''}{p.text}"
        for number, p in enumerate(passages or (), start=1)
    )
    return template.replace("{context}", context).replace("{question}", question)


def raft_examples(
    cases: Sequence[Case], chunks: Sequence[Passage], distractors: int, no_gold_share: float, seed: int
) -> list[tuple[Sequence[Passage], Case]]:
    """RAFT-style training contexts: each question with its gold chunk and sampled distractor chunks.

    In a `no_gold_share` of the examples the gold chunk is left out, so the model also learns to cope
    when retrieval misses (answering from what it has learned, or saying the documents do not say).
    """
    rng = random.Random(seed)
    by_source: dict[str, list[Passage]] = {}
    for passage in chunks:
        by_source.setdefault(passage.source_id, []).append(passage)
    without_gold = set(rng.sample(range(len(cases)), round(len(cases) * no_gold_share)))
    examples: list[tuple[Sequence[Passage], Case]] = []
    for number, case in enumerate(cases):
        golds = [p for source in case.gold_ids for p in by_source.get(source, [])]
        # Of a long gold document, the chunk that holds the reference is the one worth showing.
        holding = [p for p in golds if case.reference and case.reference.lower() in p.text.lower()]
        gold = (holding or golds)[:1]
        others = [p for p in chunks if p.source_id not in case.gold_ids]
        wanted = distractors + (1 if number in without_gold or not gold else 0)
        shown = rng.sample(others, min(wanted, len(others))) + ([] if number in without_gold else gold)
        rng.shuffle(shown)
        examples.append((shown, case))
    return examples


class GenerativeSystem:
    """An `hf:` causal LM, optionally fed retrieved passages, optionally fine-tuned on the train split."""

    def __init__(self, spec: SystemSpec, cache: Cache | None = None) -> None:
        if spec.finetune is not None and spec.finetune.method not in ("lora", "full"):
            raise InputError(
                f"system '{spec.name}'",
                f"key 'finetune.method': an hf: model trains with lora or full, not '{spec.finetune.method}'",
            )
        template = prompt_path(spec)
        assert template is not None
        self.spec = spec
        self.cache = cache
        self.template = template.read_text(encoding="utf-8")
        self.ref = hf.reference(spec.generator.model)
        self.retriever: Retriever | None = None
        self.lm: hf.CausalLM | None = None
        self.training_log: dict[str, list[float]] = {}

    def prepare(self, suite: Suite) -> None:
        if self.spec.retriever is not None:
            self.retriever = Retriever(self.spec.retriever, suite.corpus, self.cache)
        tune = self.spec.finetune
        if tune is None:  # rag, or a model tuned elsewhere: used as given
            self.lm = hf.load(self.ref)
            return
        if not suite.train:
            raise InputError(
                suite.path, f"system '{self.spec.name}' fine-tunes, but the suite has no train split"
            )
        if self.retriever is not None:
            pairs = raft_examples(
                suite.train, self.retriever.chunks, tune.distractors, tune.no_gold_share, tune.seed
            )
            examples = [(fill(self.template, case.question, shown), case.reference) for shown, case in pairs]
        else:
            examples = [(fill(self.template, case.question), case.reference) for case in suite.train]
        trained = hf.train(self.ref, examples, tune, self.cache)
        gc.collect()  # free the training copy before loading the tuned one (matters on a GPU)
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        self.lm = (
            hf.load(str(trained.folder))
            if tune.method == "full"
            else hf.load(self.ref, adapter=trained.folder)
        )
        self.training_log = dict(trained.curves)

    def answer(self, cases: Sequence[Case]) -> list[Answer]:
        if self.lm is None:
            raise RuntimeError("prepare() must run before answer()")
        start = time.perf_counter()
        questions = [case.question for case in cases]
        results = self.retriever.retrieve(questions) if self.retriever else None
        found: list[list[Passage]] | None = [r.passages for r in results] if results is not None else None
        prompts = [
            fill(self.template, question, found[row] if found is not None else None)
            for row, question in enumerate(questions)
        ]
        generations = self.lm.generate(prompts, self.spec.generator.max_new_tokens)
        # Cases are generated as a batch; each answer's latency is its share of the batch's wall time.
        latency = (time.perf_counter() - start) / max(len(cases), 1)
        return [
            Answer(
                case_id=case.id,
                text=generation.text,
                # None marks a closed-book answer, so context metrics report "not applicable", not 0.
                contexts=tuple(found[row]) if found is not None else None,
                ranking=results[row].ranking if results is not None else None,
                latency_s=latency,
                usage={
                    "prompt_tokens": generation.prompt_tokens,
                    "completion_tokens": generation.completion_tokens,
                },
            )
            for row, (case, generation) in enumerate(zip(cases, generations, strict=True))
        ]
