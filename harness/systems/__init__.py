"""The systems the harness can build: one factory per generator family, looked up by model name."""

from collections.abc import Callable
from typing import Any

from harness.systems.pipeline import ExtractivePipeline


def _tuned_minilm(spec: Any, cache: Any = None) -> Any:
    """MiniLM fine-tuned by the harness (closed-book classifier or QA reader); torch loads only when built."""
    from harness.systems.tuned import tuned_minilm

    return tuned_minilm(spec, cache)


def _generative(spec: Any, cache: Any = None) -> Any:
    """An hf: causal LM (rag, finetuned or hybrid); transformers loads only when built."""
    from harness.systems.generative import GenerativeSystem

    return GenerativeSystem(spec, cache)


def _chat(spec: Any, cache: Any = None) -> Any:
    """A hosted chat model (gemini:), rag or closed-book; langchain-google-genai loads only when built."""
    from harness.systems.chat import ChatSystem

    return ChatSystem(spec, cache)


# generator family -> factory(spec, cache=None) -> System
FACTORIES: dict[str, Callable[..., Any]] = {
    "extractive": ExtractivePipeline,
    "minilm": _tuned_minilm,
    "hf": _generative,
    "gemini": _chat,
}


def family(model: str) -> str:
    """`hf:Qwen/...` -> `hf`; `extractive` -> `extractive`."""
    return model.split(":", 1)[0]
