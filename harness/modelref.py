"""Model references, `family:name`, parsed in one place.

A reference names a model or a system's generator: `gemini:gemini-2.5-flash`, `hf:Qwen/Qwen2.5-0.5B`,
`offline:minilm`, `python:my_rag:answer`, `http://127.0.0.1:8000/ask`, or a bare family with no name
(`extractive`, `minilm`). The family is what comes before the first colon; the name is everything after
it, colons included (`python:my_rag:answer` has the name `my_rag:answer`; a URL keeps its `//host:port`).

A leaf module: no I/O; it imports only harness.errors. Which families a place accepts is the caller's to
say (`check` with CHAT_FAMILIES or EMBEDDING_FAMILIES; `harness.systems.FACTORIES` for generators).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from harness.errors import InputError

CHAT_FAMILIES = ("gemini", "openai", "hf")  # what a judge or a chat generator may be
EMBEDDING_FAMILIES = ("gemini", "openai", "offline")  # what an embeddings key may name


@dataclass(frozen=True)
class ModelRef:
    """A parsed `family:name`; `name` is "" when the reference has no colon."""

    family: str
    name: str = ""
    has_colon: bool = False

    def __str__(self) -> str:
        return f"{self.family}:{self.name}" if self.has_colon else self.family


def parse(ref: str) -> ModelRef:
    """`"hf:org/model"` -> ModelRef("hf", "org/model"); `"extractive"` -> ModelRef("extractive")."""
    family, colon, name = ref.partition(":")
    return ModelRef(family=family, name=name, has_colon=bool(colon))


def family(ref: str) -> str:
    """The family of a reference: `hf:Qwen/...` -> `hf`; `extractive` -> `extractive`."""
    return parse(ref).family


def name(ref: str) -> str:
    """The name after the first colon ("" when there is none): `gemini:gemini-2.5-flash` -> that model."""
    return parse(ref).name


def check(ref: str, families: Sequence[str], where: str, what: str) -> ModelRef:
    """A reference of one of `families` with a name after the colon, else InputError (validation only,
    nothing is loaded): `check(judge.model, CHAT_FAMILIES, "suite.yaml", "key 'judge.model'")`."""
    parsed = parse(ref)
    if parsed.family not in families or not parsed.name:
        choices = " or ".join(f"'{family}:<model>'" for family in families)
        raise InputError(where, f"{what}: unknown model '{ref}' (expected {choices})")
    return parsed
