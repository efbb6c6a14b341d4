"""A system's prompt template, and filling it: plain text work, so a hosted-model system never loads
torch to build its prompts."""

from collections.abc import Sequence

from harness.suite import Passage
from harness.system import SystemSpec, prompt_path


def template_of(spec: SystemSpec) -> str:
    """The text of the prompt template the system's generator is asked with."""
    path = prompt_path(spec)
    assert path is not None  # the generator families that prompt always have one (a default or the spec's)
    return path.read_text(encoding="utf-8")


def fill(template: str, question: str, passages: Sequence[Passage] | None = None) -> str:
    """The template with its placeholders replaced (plain replace: passages may contain braces)."""
    context = "\n\n".join(
        f"[{number}] {p.title + ': ' if p.title else ''}{p.text}"
        for number, p in enumerate(passages or (), start=1)
    )
    return template.replace("{context}", context).replace("{question}", question)
