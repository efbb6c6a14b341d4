"""A system's prompt template, and filling it: plain text work, so a hosted-model system never loads
torch to build its prompts."""

from collections.abc import Sequence

from harness.values import Passage, SystemSpec


def template_of(spec: SystemSpec) -> str:
    """The prompt template the system's generator fills: the text read when the spec was loaded, the same
    text its hash covers (an edit of the file after loading does not reach this run's answers)."""
    text = spec.prompt_text
    assert text is not None  # the families that prompt always have one (a default or the spec's)
    return text


def fill(template: str, question: str, passages: Sequence[Passage] | None = None) -> str:
    """The template with its placeholders replaced (plain replace: passages may contain braces)."""
    context = "\n\n".join(
        f"[{number}] {p.title + ': ' if p.title else ''}{p.text}"
        for number, p in enumerate(passages or (), start=1)
    )
    return template.replace("{context}", context).replace("{question}", question)
