"""What model calls cost: a process-wide ledger per (model, purpose), and a meter per scored sample."""

import contextvars
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field


@dataclass
class Tally:
    """Calls and tokens. `requests` counts HTTP requests sent (retries included); `cached` calls cost 0."""

    calls: int = 0
    cached: int = 0
    requests: int = 0
    rate_limited: int = 0
    failed: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    def add(self, other: "Tally") -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict[str, float]:
        values = asdict(self)
        values["cost_usd"] = round(values["cost_usd"], 8)
        return values


@dataclass
class Ledger:
    """Every call of this process by (model, purpose); a purpose is `system:<name>` or `metric:<name>`."""

    tallies: dict[tuple[str, str], Tally] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, model: str, purpose: str, tally: Tally) -> None:
        """What was spent: requests sent and tokens billed (a cached call adds `cached` only)."""
        with self._lock:
            self.tallies.setdefault((model, purpose), Tally()).add(tally)

    def snapshot(self) -> dict[tuple[str, str], Tally]:
        with self._lock:
            return {key: Tally(**asdict(tally)) for key, tally in self.tallies.items()}


LEDGER = Ledger()


def spent_since(before: dict[tuple[str, str], Tally]) -> dict[tuple[str, str], Tally]:
    """What the ledger gained since `before` (a snapshot): the calls made in between."""
    spent = {}
    for key, tally in LEDGER.snapshot().items():
        delta = Tally(**asdict(tally))
        if key in before:
            for name, value in asdict(before[key]).items():
                setattr(delta, name, getattr(delta, name) - value)
        if delta.calls or delta.requests or delta.cached or delta.failed:
            spent[key] = delta
    return spent


class Meter:
    """The calls made while scoring one sample (or answering one case), whatever thread made them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_model: dict[str, Tally] = {}

    def add(self, model: str, tally: Tally) -> None:
        with self._lock:
            self.by_model.setdefault(model, Tally()).add(tally)

    def total(self) -> dict[str, float]:
        """Calls, tokens and cost of everything metered (the score's own cost, cached or not)."""
        total = Tally()
        for tally in self.by_model.values():
            total.add(tally)
        values = total.as_dict()
        return {name: values[name] for name in ("calls", "input_tokens", "output_tokens", "cost_usd")}


_METER: contextvars.ContextVar[Meter | None] = contextvars.ContextVar("harness_meter", default=None)


def attribute(model: str, tally: Tally) -> None:
    """Charge a call to the sample being metered: its tokens count even when the call came from the cache,
    so a score's cost is the same on every run; what a run actually spent is in the ledger."""
    meter = _METER.get()
    if meter is not None:
        meter.add(model, tally)


@contextmanager
def metering() -> Iterator[Meter]:
    """Attribute every call made inside the block, and in tasks and executors that copy its context."""
    meter = Meter()
    token = _METER.set(meter)
    try:
        yield meter
    finally:
        _METER.reset(token)
