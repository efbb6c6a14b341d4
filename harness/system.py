"""load_system_spec and build_system: a systems/<name>.yaml read, checked against the system and model
tables, and built.

The values (SystemSpec and its blocks, Answer, the System protocol) live in the leaf modules
harness.values.system and harness.values.answer; they are re-exported here so that
`from harness.system import Answer` keeps working. The loader also resolves what a spec's hash covers
beyond its keys (the prompt template's text, a python: system's code), so `SystemSpec.hash` reads no file.
"""

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError

from harness import modelref
from harness.errors import InputError
from harness.systems import FACTORIES, family
from harness.systems.python_target import code_digest, resolve
from harness.values.answer import Answer, System
from harness.values.system import (
    COMPONENT_VERSIONS,
    DEFAULT_ENCODER,
    EXTERNAL_FAMILIES,
    EXTERNAL_GENERATOR_KEYS,
    PROMPTED_FAMILIES,
    FinetuneSpec,
    GeneratorSpec,
    HttpSpec,
    Kind,
    RetrieverSpec,
    SystemSpec,
)
from harness.yamlfile import did_you_mean, explain, read_yaml

# Re-exported: these values were defined here before harness.values existed.
__all__ = [
    "COMPONENT_VERSIONS",
    "DEFAULT_ENCODER",
    "EXTERNAL_FAMILIES",
    "EXTERNAL_GENERATOR_KEYS",
    "PROMPTED_FAMILIES",
    "Answer",
    "FinetuneSpec",
    "GeneratorSpec",
    "HttpSpec",
    "Kind",
    "RetrieverSpec",
    "System",
    "SystemSpec",
    "build_system",
    "flatten",
    "load_system_spec",
    "prompt_path",
    "resolve_spec",
]

PROMPTS_DIR = Path(__file__).parent / "prompts"


def prompt_path(spec: SystemSpec) -> Path | None:
    """The template an LLM generator fills: generator.prompt, else the shipped one for its kind."""
    if modelref.family(spec.generator.model) not in PROMPTED_FAMILIES:
        return None
    if spec.generator.prompt is None:
        return PROMPTS_DIR / ("with_context.txt" if spec.retriever is not None else "closed_book.txt")
    path = Path(spec.generator.prompt)
    shipped = Path(__file__).parent / path
    # "prompts/with_context.txt" names a shipped template from any working directory.
    return shipped if not path.is_absolute() and not path.exists() and shipped.exists() else path


def _check_prompt(path: Path | str, spec: SystemSpec) -> str | None:
    """The text of the template the generator fills (None: it fills none), checked for its placeholders."""
    template = prompt_path(spec)
    if template is None:
        return None
    if not template.is_file():
        raise InputError(str(path), f"key 'generator.prompt': no such file '{template}'")
    text = template.read_text(encoding="utf-8")
    needed = ["{question}"] + (["{context}"] if spec.retriever is not None else [])
    for placeholder in needed:
        if placeholder not in text:
            raise InputError(str(path), f"key 'generator.prompt': '{template}' lacks {placeholder}")
    return text


def resolve_spec(spec: SystemSpec, where: Path | str | None = None) -> SystemSpec:
    """The spec carrying what its hash covers beyond its keys, read now: the prompt template's text (an
    edit changes answers) and, for a python: system, the digest of its code. load_system_spec calls it;
    a spec validated from elsewhere (a run folder's run.json) goes through it before its hash is taken."""
    if not spec.needs_resolving():
        return spec
    prompt_text = _check_prompt(where or f"system '{spec.name}'", spec)
    code = None
    if modelref.family(spec.generator.model) == "python":
        code = code_digest(spec.generator.model)
    return spec.resolved(prompt_text, code)


def _check_kind(path: Path, spec: SystemSpec) -> None:
    if modelref.family(spec.generator.model) in EXTERNAL_FAMILIES:
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
    family = modelref.family(spec.generator.model)
    tune, retriever = spec.finetune, spec.retriever
    problem: str | None = None
    if retriever is not None and retriever.chunk_overlap > retriever.chunk_size // 2:
        # The splitter would quietly use less; refuse, so run.json and MLflow record what was used.
        problem = (
            f"key 'retriever.chunk_overlap': {retriever.chunk_overlap} is more than half of chunk_size "
            f"{retriever.chunk_size} (at most {retriever.chunk_size // 2})"
        )
    elif family == "extractive" and retriever is None:
        problem = (
            "key 'retriever': the extractive reader picks a span from retrieved passages, so it needs a "
            "'retriever' block; a closed-book system needs a model that answers without passages"
        )
    elif family == "extractive" and tune is not None:
        problem = "key 'finetune': the extractive reader does not train (generator.model: minilm does)"
    elif family == "minilm":
        problem = _minilm_problem(spec)
    elif family == "hf":
        if tune is not None and tune.method not in ("lora", "full"):
            problem = f"key 'finetune.method': an hf: model trains with lora or full, not '{tune.method}'"
        ref = modelref.name(spec.generator.model)
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
    family = modelref.family(spec.generator.model)
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
    _check_external(path, spec)  # imports a python: target from the file's folder, before its code is hashed
    spec = resolve_spec(spec, path)
    if spec.retriever is not None:
        where = "key 'retriever.embeddings'"
        modelref.check(spec.retriever.embeddings, modelref.EMBEDDING_FAMILIES, str(path), where)
    if family(spec.generator.model) not in FACTORIES:
        hint = did_you_mean(spec.generator.model, list(FACTORIES))
        raise InputError(str(path), f"key 'generator.model': unknown model '{spec.generator.model}'{hint}")
    return spec


def _check_external(path: Path, spec: SystemSpec) -> None:
    """A python: target is imported and its signature checked, an http: mapping parsed, when the YAML is
    read: a typo fails `systems validate` in one line, not every case of a run."""
    family = modelref.family(spec.generator.model)
    owners = {"base_url": ("openai",), "api_key_env": ("openai",), "concurrency": EXTERNAL_FAMILIES}
    owners["input_key"] = ("python",)
    for key, families in owners.items():
        if getattr(spec.generator, key) is not None and family not in families:
            only = " and ".join(f"{name}:" for name in families if name != "https")
            raise InputError(str(path), f"key 'generator.{key}': only for {only} generators")
    if family == "python":
        resolve(spec.generator.model, str(path), path.resolve().parent)
    elif family in ("http", "https"):
        from harness.systems.http import check_spec  # here: it loads an HTTP client

        check_spec(spec, str(path))
    elif spec.http is not None:
        raise InputError(str(path), "key 'http': only for http: systems")
    elif family == "openai":
        modelref.check(spec.generator.model, ("openai",), str(path), "key 'generator.model'")
        _check_openai_keys(path, spec)


def _check_openai_keys(path: Path, spec: SystemSpec) -> None:
    """generator.base_url is a server's URL and api_key_env a variable's name: a typo is one line at load,
    not a connection error in every case."""
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
