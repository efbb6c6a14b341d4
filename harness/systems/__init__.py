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
    """A hosted chat model (gemini:, openai:), rag or closed-book; its client loads only when built."""
    from harness.systems.chat import ChatSystem

    return ChatSystem(spec, cache)


def _python(spec: Any, cache: Any = None) -> Any:
    """The user's own Python function, class or LangChain Runnable (python:<module>:<callable>)."""
    from harness.systems.python_callable import PythonSystem

    return PythonSystem(spec, cache)


def _http(spec: Any, cache: Any = None) -> Any:
    """The user's running service, one JSON POST per case (http:<url>, or the URL itself)."""
    from harness.systems.http_service import HttpSystem

    return HttpSystem(spec, cache)


# generator family -> factory(spec, cache=None) -> System
FACTORIES: dict[str, Callable[..., Any]] = {
    "extractive": ExtractivePipeline,
    "minilm": _tuned_minilm,
    "hf": _generative,
    "gemini": _chat,
    "openai": _chat,  # any OpenAI-compatible chat server (vLLM, Ollama, llama.cpp, LiteLLM, hosted APIs)
    "python": _python,
    "http": _http,
    "https": _http,  # `https://host/ask` written without the http: prefix
}


def family(model: str) -> str:
    """`hf:Qwen/...` -> `hf`; `extractive` -> `extractive`."""
    return model.split(":", 1)[0]
