"""The values of a system: the keys of systems/<name>.yaml (SystemSpec and its blocks).

A leaf module: no I/O and no registry imports. `harness.system.load_system_spec` reads a YAML file into a
SystemSpec, checks it against the system and model tables, and resolves what its hash covers beyond the
YAML (the prompt template's text, a python: system's code) so that `SystemSpec.hash` reads no file.
"""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator
from pydantic_core import PydanticCustomError

from harness import modelref
from harness.hashing import digest
from harness.retrieval_settings import MINILM_WINDOW

# base: the untuned model, closed-book (the control arm); rag: base + retrieval;
# finetuned: trained, closed-book; hybrid: trained + retrieval.
Kind = Literal["base", "rag", "finetuned", "hybrid"]


DEFAULT_ENCODER = "offline:minilm"


class RetrieverSpec(BaseModel):
    """How passages are found: chunking, then BM25, dense MiniLM, or both fused by reciprocal rank.

    Two depths, in two units: the generator reads the `top_k` best chunks; the retrieval metrics
    (hit_at_k, recall_at_k, mrr) score the ranking of distinct documents, `rank_depth` of them, however
    many chunks that takes (docs/retrieval.md).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    method: Literal["bm25", "dense", "hybrid"] = Field(
        "hybrid",
        description="bm25, dense (the embeddings encoder), or hybrid: both fused by reciprocal rank.",
    )
    top_k: int = Field(
        5, ge=0, description="Chunks handed to the generator (0 retrieves nothing); not what metrics count."
    )
    chunk_size: int = Field(
        192,
        ge=8,
        description="Chunk length in chunk_unit: 192 MiniLM word pieces leave room for a title and a "
        "question in MiniLM's 256; passages no longer than this stay whole.",
    )
    chunk_unit: Literal["tokens", "chars"] = Field(
        "tokens",
        description="tokens: word pieces of MiniLM's tokenizer (the offline encoder's; the stand-in count "
        "for a hosted encoder and for bm25); chars: characters.",
    )
    chunk_overlap: int = Field(32, ge=0, description="Tokens (or characters) shared by neighbouring chunks.")
    fusion_depth: int = Field(
        20, ge=1, description="hybrid: how many chunks of each list (BM25, dense) rank fusion fuses."
    )
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant.")
    index_titles: bool = Field(True, description="Index and embed each chunk as its title line + text.")
    rank_depth: int = Field(
        20,
        ge=1,
        description="Distinct documents ranked per question for hit_at_k, recall_at_k and mrr (at least "
        "the suite's k and the MRR depth).",
    )
    embeddings: str = Field(
        DEFAULT_ENCODER, description="Dense encoder: offline:minilm, or gemini:<embedding model> (a key)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> "RetrieverSpec":
        if self.method == "hybrid" and self.fusion_depth < self.top_k:
            raise PydanticCustomError(
                "retriever",
                f"fusion_depth {self.fusion_depth} is less than top_k {self.top_k}: fusion would rank fewer "
                "chunks than the generator reads",
            )
        minilm = self.method != "bm25" and self.embeddings == DEFAULT_ENCODER
        if minilm and self.chunk_unit == "tokens" and self.chunk_size > MINILM_WINDOW:
            raise PydanticCustomError(
                "retriever",
                f"chunk_size {self.chunk_size} tokens is more than MiniLM embeds ({MINILM_WINDOW} word "
                "pieces, title included): the rest of each chunk would be cut off unseen (for the old "
                "meaning, characters, add chunk_unit: chars)",
            )
        return self


class GeneratorSpec(BaseModel):
    """What writes the answer: `extractive` (offline, no LLM), `minilm`, `hf:<model>`, `gemini:<model>`,
    `openai:<model>`, or the user's own system: `python:<module>:<callable>`, `http:<url>`
    (docs/systems.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    model: str = Field(
        description="extractive, minilm, hf:<id or folder>, gemini:<model>, openai:<model>, python:<module>:"
        "<callable>, or an http(s) URL."
    )
    max_sentences: int = Field(1, ge=1, description="Extractive reader: sentences per answer.")
    lexical_weight: float = Field(0.5, ge=0, description="Extractive reader: weight of word overlap.")
    tuned: bool = Field(False, description="The model was fine-tuned elsewhere; skip training.")
    max_new_tokens: int = Field(64, ge=1, description="LLM generators: tokens generated per answer (greedy).")
    prompt: str | None = Field(
        None, description="LLM generators: template file with {question} and {context} (default: shipped)."
    )
    base_url: str | None = Field(
        None, description="openai: the server's URL, e.g. http://127.0.0.1:8000/v1 (vLLM, Ollama, LiteLLM)."
    )
    api_key_env: str | None = Field(
        None, description="openai: the environment variable holding the key (default OPENAI_API_KEY)."
    )
    concurrency: int | None = Field(
        None, ge=1, description="python: / http: cases answered at once (default 1 for python:, 4 for http:)."
    )
    input_key: str | None = Field(
        None, description="python: a Runnable is invoked with {input_key: question} instead of the question."
    )


# Keys added for the python:, http: and openai: families; hashed only when set, so existing systems keep
# their identity (their cached answers and the gate's baselines).
EXTERNAL_GENERATOR_KEYS = ("base_url", "api_key_env", "concurrency", "input_key")
EXTERNAL_FAMILIES = ("python", "http", "https")  # the system answers by itself: the harness neither
# retrieves nor trains for it


class HttpSpec(BaseModel):
    """How an http: system's service is called: the request built and the reply read (docs/systems.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    request: dict[Literal["question", "case_id"], str] = Field(
        default_factory=lambda: {"question": "question"},  # type: ignore[arg-type]
        description="Harness value -> request field (a dotted path, e.g. input.query).",
    )
    body: dict[str, Any] = Field(default_factory=dict, description="Constant fields sent with every request.")
    answer: str = Field("answer", description="Reply path of the answer, e.g. data.answer.")
    contexts: str | None = Field(
        "contexts", description="Reply path of the contexts, e.g. data.sources[*].text (rag/hybrid kinds)."
    )
    context_ids: str | None = Field(None, description="Reply path of the contexts' corpus ids (optional).")
    usage: str | None = Field(
        None, description="Reply path of the tokens spent, {prompt_tokens, completion_tokens} (optional)."
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="Sent with every request; secrets only as ${ENV_VAR} references."
    )
    timeout_s: float = Field(60, gt=0, description="Per request; a timeout is retried.")
    rpm: float | None = Field(None, gt=0, description="Requests per minute at most (None: not paced).")
    max_attempts: int = Field(6, ge=1, description="Attempts per case (timeouts, 429 and 5xx are retried).")


class FinetuneSpec(BaseModel):
    """How the harness trains on the suite's train split."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    method: Literal["classifier", "reader", "lora", "full"] = Field(
        description="classifier: closed-book head over the train answers; reader: span-extraction QA reader; "
        "lora / full: LoRA adapters or all weights of an hf: causal LM."
    )
    epochs: int = Field(3, ge=1, description="Passes over the train split.")
    lr: float = Field(5e-5, gt=0, description="Learning rate of the model (or adapter) being trained.")
    batch_size: int = Field(16, ge=1, description="Examples per optimiser step.")
    seed: int = Field(
        0, description="Seed of shuffling, initialisation and hold-out: the same seed trains the same model."
    )
    max_steps: int | None = Field(None, ge=1, description="Stop after this many optimiser steps (caps time).")
    val_share: float = Field(0.1, ge=0, lt=0.5, description="Share of train held out for the val curve.")
    freeze_layers: int = Field(6, ge=0, le=6, description="MiniLM layers kept frozen (6: only heads train).")
    max_length: int = Field(256, ge=32, description="Reader: tokens per question + passage.")
    distractors: int = Field(1, ge=0, description="Reader: passages per question where it must not answer.")
    tune_retriever: bool = Field(False, description="Reader: also tune the dense retriever (MiniLM).")
    retriever_lr: float = Field(2e-5, gt=0, description="Reader: learning rate of the retriever tuning.")
    retriever_epochs: int = Field(1, ge=1, description="Reader: passes of the retriever tuning.")
    rank: int = Field(16, ge=1, description="LoRA: rank of the adapter matrices.")
    alpha: int = Field(32, ge=1, description="LoRA: the update is scaled by alpha / rank.")
    target_modules: list[str] | None = Field(None, description="LoRA: modules to adapt (None: peft default).")
    no_gold_share: float = Field(0.2, ge=0, le=1, description="Hybrid LoRA (RAFT): share without the gold.")


class SystemSpec(BaseModel):
    """The keys of systems/<name>.yaml."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = Field(min_length=1, description="The system's name in results, MLflow and baselines.")
    kind: Kind = Field(
        description="base (untuned, closed-book), rag (retrieval), finetuned (trained, closed-book), hybrid."
    )
    profile: str = Field("offline", description="The bench profile that runs this system.")
    description: str = Field("", description="What the system is, in a sentence (shown in reports).")
    retriever: RetrieverSpec | None = Field(
        None, description="How passages are found (rag and hybrid kinds)."
    )
    generator: GeneratorSpec = Field(description="What writes the answer.")
    finetune: FinetuneSpec | None = Field(None, description="How the harness trains on the train split.")
    http: HttpSpec | None = Field(None, description="http: systems: request and reply mapping.")

    # Set by harness.system.resolve_spec (load_system_spec calls it): the text of the prompt template a
    # prompted generator fills, and the digest of a python: system's code. Neither is a YAML key.
    _prompt_text: str | None = PrivateAttr(None)
    _code_digest: str | None = PrivateAttr(None)
    _resolved_for: tuple[Any, ...] | None = PrivateAttr(None)

    def _resolution_inputs(self) -> tuple[Any, ...]:
        """What the resolved texts depend on: a copy that changes these must be resolved again."""
        return (self.generator.model, self.generator.prompt, self.retriever is None)

    def needs_resolving(self) -> bool:
        """Whether the hash covers something outside the YAML: a prompt template or python: code."""
        family = modelref.family(self.generator.model)
        return family in PROMPTED_FAMILIES or family == "python"

    def resolved(self, prompt_text: str | None, code_digest: str | None) -> "SystemSpec":
        """A copy that carries the prompt template's text and the code's digest (read by the loader)."""
        copy = self.model_copy()
        copy._prompt_text, copy._code_digest = prompt_text, code_digest
        copy._resolved_for = self._resolution_inputs()
        return copy

    def _require_resolved(self) -> None:
        if self.needs_resolving() and self._resolved_for != self._resolution_inputs():
            raise ValueError(
                f"system '{self.name}': its prompt or code was not read (load it with load_system_spec, "
                "or pass it through harness.system.resolve_spec)"
            )

    @property
    def prompt_text(self) -> str | None:
        """The prompt template the generator fills, as read at load (None: its family fills none)."""
        self._require_resolved()
        return self._prompt_text

    @property
    def hash(self) -> str:
        """The system's identity: its keys, the component versions, its prompt text and its code. Pure: the
        texts were read when the spec was loaded (harness.system.resolve_spec)."""
        self._require_resolved()
        fields = self.model_dump(mode="json")
        for key in EXTERNAL_GENERATOR_KEYS:
            if fields["generator"].get(key) is None:
                fields["generator"].pop(key, None)
        if fields.get("http") is None:
            fields.pop("http", None)
        # A key added after systems were first released is hashed only when it is set to something else,
        # so existing systems keep their identity (their cached answers, and the gate's baselines).
        if fields.get("retriever") and fields["retriever"]["embeddings"] == DEFAULT_ENCODER:
            del fields["retriever"]["embeddings"]
        parts: list[Any] = [fields, COMPONENT_VERSIONS]
        if (
            self._prompt_text is not None
        ):  # a prompt edit changes answers; systems without one keep their hash
            parts.append(self._prompt_text)
        if self._code_digest is not None:  # an edit of the user's code changes answers
            parts.append(self._code_digest)
        return digest(parts)

    @property
    def uses_corpus(self) -> bool:
        """Whether answers depend on the suite's corpus: the harness retrieves for it, or a python: or
        http: system of kind rag or hybrid retrieves by itself (its contexts are matched to the corpus)."""
        external = modelref.family(self.generator.model) in EXTERNAL_FAMILIES
        return self.retriever is not None or (external and self.kind in ("rag", "hybrid"))

    @property
    def uses_train(self) -> bool:
        """Whether the system reads the train split: the harness trains it, or a python: or http: system
        of kind finetuned or hybrid (python: gets the split in prepare())."""
        external = modelref.family(self.generator.model) in EXTERNAL_FAMILIES
        return self.finetune is not None or (external and self.kind in ("finetuned", "hybrid"))

    @property
    def label(self) -> str:
        """How results name the system: its generator is part of what a reader must know."""
        if self.generator.model == "extractive":
            return f"{self.name} (extractive reader, no-LLM baseline)"
        return self.name


# Bumped when a component's behaviour changes, so cached answers of the old code are not reused.
COMPONENT_VERSIONS = {"retrieval": 1, "extractive": 1, "minilm_tuned": 1, "minilm_reading": 2}
PROMPTED_FAMILIES = ("hf", "gemini", "openai")  # generator families that fill a prompt template
