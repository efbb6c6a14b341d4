"""The systems the harness can build: one factory per generator family, looked up by model name.

Every factory returns a `Pipeline` (pipeline.py): the spec's retriever, if any, then the family's
answerer. A family's module is named after its key and is imported only when a system of it is built, so
that a run of one family never loads another's libraries (torch, transformers, an HTTP client).
"""

from collections.abc import Callable
from typing import Any

from harness import modelref


def _extractive(spec: Any, cache: Any = None) -> Any:
    """Retrieval read by the extractive reader: the offline RAG baseline with nothing to train."""
    from harness.systems.extractive import extractive

    return extractive(spec, cache)


def _minilm(spec: Any, cache: Any = None) -> Any:
    """MiniLM: the general span reader (rag), a closed-book classifier or a tuned reader (hybrid)."""
    from harness.systems.minilm import minilm

    return minilm(spec, cache)


def _hf(spec: Any, cache: Any = None) -> Any:
    """An hf: causal LM (rag, finetuned or hybrid); transformers loads only when prepared."""
    from harness.systems.hf import hf

    return hf(spec, cache)


def _chat(spec: Any, cache: Any = None) -> Any:
    """A hosted chat model (gemini:, openai:), rag or closed-book; its client loads only when prepared."""
    from harness.systems.chat import chat

    return chat(spec, cache)


def _python(spec: Any, cache: Any = None) -> Any:
    """The user's own Python function, class or LangChain Runnable (python:<module>:<callable>)."""
    from harness.systems.python import python

    return python(spec, cache)


def _http(spec: Any, cache: Any = None) -> Any:
    """The user's running service, one JSON POST per case (http:<url>, or the URL itself)."""
    from harness.systems.http import http

    return http(spec, cache)


# generator family -> factory(spec, cache=None) -> System (a Pipeline)
FACTORIES: dict[str, Callable[..., Any]] = {
    "extractive": _extractive,
    "minilm": _minilm,
    "hf": _hf,
    "gemini": _chat,
    "openai": _chat,  # any OpenAI-compatible chat server (vLLM, Ollama, llama.cpp, LiteLLM, hosted APIs)
    "python": _python,
    "http": _http,
    "https": _http,  # `https://host/ask` written without the http: prefix
}


def family(model: str) -> str:
    """`hf:Qwen/...` -> `hf`; `extractive` -> `extractive`."""
    return modelref.family(model)
