"""Per-model limits and prices: harness/llm/models.yaml, with HARNESS_MODELS merged over it."""

import functools
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness import modelref
from harness.errors import InputError
from harness.yamlfile import explain, read_yaml

SHIPPED = Path(__file__).with_name("models.yaml")
LOCAL_FAMILIES = ("hf", "offline")  # run in-process: no server limits, no price


class Price(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    input: float = Field(0.0, ge=0, description="Dollars per million input tokens.")
    output: float = Field(0.0, ge=0, description="Dollars per million output tokens.")


class ModelSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    rpm: Annotated[float, Field(gt=0)] | Literal["auto"] | None = Field(
        None,
        description="Requests per minute the server allows; auto: learnt from its 429s; null: unlimited.",
    )
    tpm: float | None = Field(None, gt=0)
    headroom: float = Field(0.01, ge=0, lt=0.5)
    concurrency: int = Field(8, ge=1)
    timeout_s: float = Field(60, gt=0)
    max_attempts: int = Field(6, ge=1)
    base_url: str | None = None
    price: Price = Price()

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.price.input + output_tokens * self.price.output) / 1e6


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        merged[key] = (
            _merge(merged[key], value)
            if isinstance(value, dict) and isinstance(merged.get(key), dict)
            else value
        )
    return merged


@functools.cache
def _table(override: str | None) -> tuple[dict[str, Any], dict[str, Any], str]:
    raw = read_yaml(SHIPPED)
    where = str(SHIPPED)
    if override:
        extra = read_yaml(Path(override))
        unknown = set(extra) - {"defaults", "models"}
        if unknown:
            raise InputError(override, f"unknown key '{sorted(unknown)[0]}' (expected defaults, models)")
        raw = _merge(raw, extra)
        where = override
    return raw.get("defaults") or {}, raw.get("models") or {}, where


def settings(ref: str) -> ModelSettings:
    """Limits and price of model `ref` (e.g. `gemini:gemini-2.5-flash`): its entry over the defaults."""
    defaults, models, where = _table(os.environ.get("HARNESS_MODELS") or None)
    values = dict(defaults)
    if modelref.family(ref) in LOCAL_FAMILIES:
        values.update(rpm=None, tpm=None, price={"input": 0.0, "output": 0.0})
    values = _merge(values, models.get(ref) or {})
    try:
        return ModelSettings.model_validate(values)
    except ValidationError as err:
        bad = explain(Path(where), err, {"": list(ModelSettings.model_fields)})
        key = str(err.errors()[0]["loc"][0]) if err.errors()[0]["loc"] else ""
        block = f"models.{ref}" if key in (models.get(ref) or {}) else "defaults"
        raise InputError(bad.where, bad.what.replace("key '", f"key '{block}.", 1)) from None
