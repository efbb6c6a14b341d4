"""SystemSpec (a systems/<name>.yaml), Answer, the System protocol, and load_system."""

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_serializer, model_validator

from harness.errors import InputError
from harness.hashing import digest
from harness.suite import Case, Passage, Suite
from harness.yamlfile import explain, read_yaml

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
        from pydantic_core import PydanticCustomError

        from harness.retrieval_settings import MINILM_WINDOW

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

    @property
    def hash(self) -> str:
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
        template = prompt_path(self)
        if template is not None:  # a prompt edit changes answers; systems without one keep their hash
            parts.append(template.read_text(encoding="utf-8"))
        if self.generator.model.startswith("python:"):  # an edit of the user's code changes answers
            from harness.systems.python_callable import code_digest

            parts.append(code_digest(self.generator.model))
        return digest(parts)

    @property
    def label(self) -> str:
        """How results name the system: its generator is part of what a reader must know."""
        if self.generator.model == "extractive":
            return f"{self.name} (extractive reader, no-LLM baseline)"
        return self.name


# Bumped when a component's behaviour changes, so cached answers of the old code are not reused.
COMPONENT_VERSIONS = {"retrieval": 1, "extractive": 1, "minilm_tuned": 1, "minilm_reading": 2}


PROMPTS_DIR = Path(__file__).parent / "prompts"
PROMPTED_FAMILIES = ("hf", "gemini", "openai")  # generator families that fill a prompt template


def prompt_path(spec: SystemSpec) -> Path | None:
    """The template an LLM generator fills: generator.prompt, else the shipped one for its kind."""
    if spec.generator.model.split(":", 1)[0] not in PROMPTED_FAMILIES:
        return None
    if spec.generator.prompt is None:
        return PROMPTS_DIR / ("with_context.txt" if spec.retriever is not None else "closed_book.txt")
    path = Path(spec.generator.prompt)
    shipped = Path(__file__).parent / path
    # "prompts/with_context.txt" names a shipped template from any working directory.
    return shipped if not path.is_absolute() and not path.exists() and shipped.exists() else path


def _check_prompt(path: Path, spec: SystemSpec) -> None:
    template = prompt_path(spec)
    if template is None:
        return
    if not template.is_file():
        raise InputError(str(path), f"key 'generator.prompt': no such file '{template}'")
    text = template.read_text(encoding="utf-8")
    needed = ["{question}"] + (["{context}"] if spec.retriever is not None else [])
    for placeholder in needed:
        if placeholder not in text:
            raise InputError(str(path), f"key 'generator.prompt': '{template}' lacks {placeholder}")


class Answer(BaseModel):
    """What a system gave for one case. A failure sets `error` instead of raising."""

    model_config = ConfigDict(frozen=True)
    case_id: str
    text: str = ""
    contexts: tuple[Passage, ...] | None = Field(
        None, description="Passages the generator saw; None for a closed-book system (it never retrieves)."
    )
    latency_s: float = 0.0
    usage: dict[str, int] = Field(default_factory=dict)
    error: str | None = None
    ranking: tuple[str, ...] | None = Field(
        None,
        description="Distinct document ids the retriever ranked, best first, as deep as its rank_depth: what "
        "hit_at_k, recall_at_k and mrr score (contexts are the top_k chunks the generator read). None: the "
        "system reports no ranking; those metrics then read the documents of its contexts.",
    )

    @model_serializer(mode="wrap")
    def _without_empty_ranking(self, handler: Any) -> Any:
        # Answers without a ranking dump as they did before it existed: their score cache keys stay.
        data = handler(self)
        if isinstance(data, dict) and data.get("ranking", ()) is None:
            del data["ranking"]
        return data


class System(Protocol):
    """A configuration under test.

    A system that trains may also expose `training_log: dict[str, list[float]]` (e.g. "train_loss",
    "val_loss" per epoch or step) after prepare(); the runner records it and MLflow shows it as curves.
    """

    spec: SystemSpec

    def prepare(self, suite: Suite) -> None:
        """Index the corpus and train what the spec asks for; called once before answering."""

    def answer(self, cases: Sequence[Case]) -> list[Answer]:
        """Answer a batch of cases, one Answer per case, in order."""


def _check_kind(path: Path, spec: SystemSpec) -> None:
    if spec.generator.model.split(":", 1)[0] in EXTERNAL_FAMILIES:
        return  # its kind is what the user declares; _check_external refuses harness-side blocks
    retrieves = spec.retriever is not None
    tuned = spec.finetune is not None or spec.generator.tuned
    problems = {
        "base": (retrieves and "a base system is closed-book: remove 'retriever' (or kind: rag)")
        or (
            spec.finetune is not None
            and "a base system trains nothing: remove 'finetune' (or kind: finetuned)"
        )
        or (
            spec.generator.tuned
            and "a base system is the untuned model: remove generator.tuned (or kind: finetuned)"
        ),
        "rag": (not retrieves and "a rag system needs a 'retriever' block")
        or (spec.finetune is not None and "a rag system has no 'finetune' block (that is kind: hybrid)"),
        "finetuned": (retrieves and "a finetuned system is closed-book: remove 'retriever' (or kind: hybrid)")
        or (
            not tuned
            and "a finetuned system names its training (a 'finetune' block) or a model tuned elsewhere "
            "(generator.tuned: true); the untuned closed-book model is kind: base"
        ),
        "hybrid": (not retrieves and "a hybrid system needs a 'retriever' block")
        or (not tuned and "a hybrid system needs a 'finetune' block or generator.tuned: true"),
    }
    problem = problems[spec.kind]
    if problem:
        raise InputError(str(path), f"kind '{spec.kind}' contradicts the blocks present: {problem}")


def _check_buildable(path: Path, spec: SystemSpec) -> None:
    """What each family would refuse when the system is built, checked when its YAML is read instead:
    `systems validate`, `run` and `bench` reject it before any indexing or training."""
    where = str(path)
    family = spec.generator.model.split(":", 1)[0]
    tune, retriever = spec.finetune, spec.retriever
    problem: str | None = None
    if retriever is not None and retriever.chunk_overlap > retriever.chunk_size // 2:
        # The splitter would quietly use less; refuse, so run.json and MLflow record what was used.
        problem = (
            f"key 'retriever.chunk_overlap': {retriever.chunk_overlap} is more than half of chunk_size "
            f"{retriever.chunk_size} (at most {retriever.chunk_size // 2})"
        )
    elif family == "minilm":
        problem = _minilm_problem(spec)
    elif family == "hf":
        if tune is not None and tune.method not in ("lora", "full"):
            problem = f"key 'finetune.method': an hf: model trains with lora or full, not '{tune.method}'"
        ref = spec.generator.model.split(":", 1)[1]
        local = ref.startswith(("/", "./", "../", "~")) or ref.count("/") > 1 or "\\" in ref
        if problem is None and local and not Path(ref).expanduser().exists():
            problem = f"key 'generator.model': no such model folder '{ref}'"
    elif family in EXTERNAL_FAMILIES:
        problem = _external_problem(spec)
    elif family in ("gemini", "openai") and tune is not None:
        problem = (
            f"key 'finetune': the harness does not fine-tune {spec.generator.model}; "
            "for a model tuned elsewhere, name it and set generator.tuned: true"
        )
    if problem:
        raise InputError(where, problem)


def _external_problem(spec: SystemSpec) -> str | None:
    """python: and http: systems retrieve and train by themselves; the harness only asks and records."""
    family = spec.generator.model.split(":", 1)[0]
    if spec.retriever is not None:
        return f"key 'retriever': a {family}: system retrieves by itself (kind {spec.kind} is declared as is)"
    if spec.finetune is not None:
        return f"key 'finetune': a {family}: system trains by itself (python: gets the train split)"
    if spec.http is not None and family == "python":
        return "key 'http': only for http: systems"
    return None


def _minilm_problem(spec: SystemSpec) -> str | None:
    """The recipe/kind combinations the minilm family cannot build (harness/systems/tuned.py)."""
    tune, retriever = spec.finetune, spec.retriever
    if tune is None:  # the general reader, trained once on generated data: it reads retrieved passages
        if retriever is None:
            return "generator 'minilm' without 'finetune' is the general reader: add a 'retriever' block"
        return None
    if tune.method not in ("classifier", "reader"):
        return (
            f"key 'finetune.method': minilm trains with 'classifier' or 'reader', not '{tune.method}' "
            "(lora and full are for hf: models)"
        )
    if tune.method == "classifier":
        if retriever is not None:
            return "finetune.method 'classifier' is closed-book: remove 'retriever' (kind: finetuned)"
        return None
    if retriever is None:
        return "finetune.method 'reader' reads retrieved passages: add a 'retriever' block"
    if tune.tune_retriever and retriever.method == "bm25":
        return "finetune.tune_retriever needs a dense encoder: retriever.method dense or hybrid"
    if tune.tune_retriever and retriever.embeddings != DEFAULT_ENCODER:
        return "key 'retriever.embeddings': tune_retriever tunes MiniLM, not a hosted encoder"
    if tune.freeze_layers >= 6:
        return "key 'finetune.freeze_layers': 6 leaves the reader nothing to tune: use 0 to 5"
    return None


def load_system_spec(path: Path | str) -> SystemSpec:
    """Read and validate a system YAML file; raise InputError naming the file and key."""
    path = Path(path)
    raw = read_yaml(path)
    known: dict[str, list[str]] = {
        "": list(SystemSpec.model_fields),
        "retriever": list(RetrieverSpec.model_fields),
        "generator": list(GeneratorSpec.model_fields),
        "finetune": list(FinetuneSpec.model_fields),
        "http": list(HttpSpec.model_fields),
    }
    try:
        spec = SystemSpec.model_validate(raw)
    except ValidationError as err:
        raise explain(path, err, known) from None
    _check_kind(path, spec)
    _check_prompt(path, spec)
    _check_buildable(path, spec)
    _check_external(path, spec)
    if spec.retriever is not None:
        from harness.llm.backends import EMBEDDING_FAMILIES, check_ref

        check_ref(spec.retriever.embeddings, EMBEDDING_FAMILIES, str(path), "key 'retriever.embeddings'")
    from harness.systems import FACTORIES, family

    if family(spec.generator.model) not in FACTORIES:
        from harness.yamlfile import did_you_mean

        hint = did_you_mean(spec.generator.model, list(FACTORIES))
        raise InputError(str(path), f"key 'generator.model': unknown model '{spec.generator.model}'{hint}")
    return spec


def _check_external(path: Path, spec: SystemSpec) -> None:
    """A python: target is imported and its signature checked, an http: mapping parsed, when the YAML is
    read: a typo fails `systems validate` in one line, not every case of a run."""
    family = spec.generator.model.split(":", 1)[0]
    owners = {"base_url": ("openai",), "api_key_env": ("openai",), "concurrency": EXTERNAL_FAMILIES}
    owners["input_key"] = ("python",)
    for key, families in owners.items():
        if getattr(spec.generator, key) is not None and family not in families:
            only = " and ".join(f"{name}:" for name in families if name != "https")
            raise InputError(str(path), f"key 'generator.{key}': only for {only} generators")
    if family == "python":
        from harness.systems.python_callable import resolve

        resolve(spec.generator.model, str(path), path.resolve().parent)
    elif family in ("http", "https"):
        from harness.systems.http_service import check_spec

        check_spec(spec, str(path))
    elif spec.http is not None:
        raise InputError(str(path), "key 'http': only for http: systems")
    elif family == "openai":
        from harness.llm.backends import check_ref

        check_ref(spec.generator.model, ("openai",), str(path), "key 'generator.model'")
        _check_openai_keys(path, spec)


def _check_openai_keys(path: Path, spec: SystemSpec) -> None:
    """generator.base_url is a server's URL and api_key_env a variable's name: a typo is one line at load,
    not a connection error in every case."""
    from urllib.parse import urlsplit

    url = spec.generator.base_url
    if url is not None:
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError as err:
            raise InputError(str(path), f"key 'generator.base_url': '{url}' is not a URL ({err})") from None
        if parts.scheme not in ("http", "https") or not parts.hostname or (port is not None and port < 1):
            raise InputError(
                str(path), f"key 'generator.base_url': '{url}' is not an http:// or https:// URL"
            )
    name = spec.generator.api_key_env
    if name is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise InputError(
            str(path), f"key 'generator.api_key_env': '{name}' is not an environment variable's name"
        )


def build_system(spec: SystemSpec, cache: Any = None) -> System:
    """Construct the system a spec describes (nothing heavy happens until prepare)."""
    from harness.systems import FACTORIES, family

    return FACTORIES[family(spec.generator.model)](spec, cache)


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """A nested spec as dotted keys, e.g. {"retriever.top_k": "5"}: MLflow params and table columns."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if not isinstance(value, dict):
        return {prefix: str(value)}
    flat: dict[str, str] = {}
    for key, item in value.items():
        flat.update(flatten(item, f"{prefix}.{key}" if prefix else key))
    return flat
