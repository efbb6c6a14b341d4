"""The systems the harness can build: one factory per generator family, looked up by model name."""

from collections.abc import Callable
from typing import Any

from harness.systems.pipeline import ExtractivePipeline

# generator family -> factory(spec, cache=None) -> System
FACTORIES: dict[str, Callable[..., Any]] = {
    "extractive": ExtractivePipeline,
}


def family(model: str) -> str:
    """`hf:Qwen/...` -> `hf`; `extractive` -> `extractive`."""
    return model.split(":", 1)[0]
