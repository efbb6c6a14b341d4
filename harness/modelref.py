"""Model references, `family:name`, parsed in one place.

A reference names a model or a system's generator: `gemini:gemini-2.5-flash`, `hf:Qwen/Qwen2.5-0.5B`,
`offline:minilm`, `python:my_rag:answer`, `http://127.0.0.1:8000/ask`, or a bare family with no name
(`extractive`, `minilm`). The family is what comes before the first colon; the name is everything after
it, colons included (`python:my_rag:answer` has the name `my_rag:answer`; a URL keeps its `//host:port`).

A leaf module: no I/O, no harness imports. Whether a family is known, or a name required, is for the
caller's table to say (`harness.llm.backends.check_ref`, `harness.systems.FACTORIES`).
"""

from dataclasses import dataclass


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
