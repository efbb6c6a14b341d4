"""`hf:<model id or folder>`: a causal LM of the hf profile, closed-book or fed retrieved passages,
used as given or fine-tuned on the train split (LoRA or all weights; RAFT-style when it retrieves)."""

import gc
import random
from collections.abc import Sequence

import torch

from harness.cache import Cache
from harness.errors import InputError
from harness.models import hf as causal
from harness.systems.pipeline import Answerer, Pipeline, Reply
from harness.systems.retrieval import Retriever
from harness.systems.template import fill, template_of
from harness.values import Case, Passage, Suite, SystemSpec


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


class CausalAnswerer(Answerer):
    """Fills the prompt template with each question (and its passages) and generates, greedily, in batches."""

    def __init__(self, spec: SystemSpec, cache: Cache | None = None) -> None:
        self.spec = spec
        self.cache = cache
        self.template = template_of(spec)
        self.ref = causal.reference(spec.generator.model)
        self.lm: causal.CausalLM | None = None
        self.training_log = {}

    def prepare(self, suite: Suite, retriever: Retriever | None) -> None:
        tune = self.spec.finetune
        if tune is None:  # rag, or a model tuned elsewhere: used as given
            self.lm = causal.load(self.ref)
            return
        if not suite.train:
            raise InputError(
                suite.path, f"system '{self.spec.name}' fine-tunes, but the suite has no train split"
            )
        if retriever is not None:
            pairs = raft_examples(
                suite.train, retriever.chunks, tune.distractors, tune.no_gold_share, tune.seed
            )
            examples = [(fill(self.template, case.question, shown), case.reference) for shown, case in pairs]
        else:
            examples = [(fill(self.template, case.question), case.reference) for case in suite.train]
        trained = causal.train(self.ref, examples, tune, self.cache)
        gc.collect()  # free the training copy before loading the tuned one (matters on a GPU)
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        self.lm = (
            causal.load(str(trained.folder))
            if tune.method == "full"
            else causal.load(self.ref, adapter=trained.folder)
        )
        self.training_log = dict(trained.curves)

    def answer(self, cases: Sequence[Case], contexts: Sequence[Sequence[Passage]] | None) -> list[Reply]:
        if self.lm is None:
            raise RuntimeError("prepare() must run before answer()")
        prompts = [
            fill(self.template, case.question, contexts[row] if contexts is not None else None)
            for row, case in enumerate(cases)
        ]
        generations = self.lm.generate(prompts, self.spec.generator.max_new_tokens)
        return [
            Reply(
                text=generation.text,
                usage={
                    "prompt_tokens": generation.prompt_tokens,
                    "completion_tokens": generation.completion_tokens,
                },
            )
            for generation in generations
        ]


def hf(spec: SystemSpec, cache: Cache | None = None) -> Pipeline:
    """The factory for `generator: {model: "hf:<id or folder>"}` (transformers loads only in prepare)."""
    if spec.finetune is not None and spec.finetune.method not in ("lora", "full"):
        raise InputError(
            f"system '{spec.name}'",
            f"key 'finetune.method': an hf: model trains with lora or full, not '{spec.finetune.method}'",
        )
    return Pipeline(spec, CausalAnswerer(spec, cache), cache)
