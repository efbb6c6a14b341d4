"""Stage lines on stderr, the time each stage took, and keeping library noise out of the output.

Stage lines are plain lines, printed whether or not stderr is a terminal, so a CI log or `| tee` shows
where a long bench is:

    [3/12] house-style × hybrid-minilm: training reader on 400 pairs (about 1 min last time)
    [3/12] house-style × hybrid-minilm: training reader on 400 pairs: done in 52.1 s

`-q` leaves them out; `-v` lets the libraries' own log lines and progress bars through.
"""

import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import TextIO

QUIET, NORMAL, VERBOSE = 0, 1, 2
# Loggers of the libraries the harness drives; below WARNING they narrate their internals
NOISY_LOGGERS = (
    "bm25s",
    "mlflow",
    "alembic",
    "transformers",
    "sentence_transformers",
    "datasets",
    "evaluate",
    "huggingface_hub",
    "httpx",
    "httpcore",
    "urllib3",
    "ragas",
    "langchain",
    "langchain_core",
    "langchain_google_genai",
    "peft",
    "torch",
    "matplotlib",
    "filelock",
    "absl",
    "sqlalchemy",
)
# Read by each library when it is imported: the bars of transformers ("Loading weights"), of the hub and
# of datasets, tqdm's everywhere else (tqdm >= 4.66 reads TQDM_* defaults), and MLflow's INFO lines
QUIET_ENVIRONMENT = {
    "TQDM_DISABLE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "DATASETS_VERBOSITY": "error",
    "MLFLOW_LOGGING_LEVEL": "WARNING",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
}


class _Below(logging.Filter):
    """Drops a library's records under `floor`, whatever level the library later gives its logger."""

    def __init__(self, floor: int) -> None:
        super().__init__()
        self.floor = floor

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.floor


def quiet_libraries(verbosity: int) -> None:
    """Silence the libraries' loggers and progress bars unless -v; with -v show their INFO lines."""
    if verbosity >= VERBOSE:
        logging.basicConfig(level=logging.INFO if verbosity == VERBOSE else logging.DEBUG, stream=sys.stderr)
        for name in NOISY_LOGGERS:
            logger = logging.getLogger(name)
            logger.setLevel(logging.NOTSET)
            logger.filters = [item for item in logger.filters if not isinstance(item, _Below)]
        return
    for name, value in QUIET_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    floor = logging.WARNING if verbosity == NORMAL else logging.ERROR
    for name in NOISY_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(floor)
        # bm25s sets its own logger to DEBUG when it is imported, after this runs: a filter stays put.
        logger.filters = [item for item in logger.filters if not isinstance(item, _Below)]
        logger.addFilter(_Below(floor))
    # A library imported before this call read its settings already: tell it directly.
    if "transformers" in sys.modules:
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        transformers_logging.set_verbosity_error()
    if "huggingface_hub" in sys.modules:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()


def duration(seconds: float) -> str:
    """12.3 s, 4 min 05 s, 1 h 02 min."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def about(seconds: float) -> str:
    """A rough figure for an estimate: about 40 s, about 3 min."""
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    return f"{round(seconds / 60)} min"


class Progress:
    """Numbered runs and their stages, printed to stderr; every stage's time is kept for the summary."""

    def __init__(self, stream: TextIO | None = None, level: int = NORMAL) -> None:
        self.stream = stream
        self.level = level
        self.total = 0
        self.index = 0
        self.label = ""
        self.timings: list[tuple[str, str, float]] = []  # (run label, stage, seconds)
        self._lock = threading.Lock()

    def configure(self, level: int, stream: TextIO | None = None) -> None:
        self.level = level
        self.stream = stream

    def begin(self, total: int) -> None:
        """A bench of `total` runs starts: numbering restarts and earlier timings are dropped."""
        self.total, self.index, self.label, self.timings = total, 0, "", []

    def after_runs(self) -> None:
        """The runs are done: stages from here on (verdict, MLflow, report) belong to the bench."""
        self.label = ""

    def next_run(self, label: str) -> None:
        self.index += 1
        self.total = max(self.total, self.index)
        self.label = label

    def say(self, text: str) -> None:
        if self.level < NORMAL:
            return
        prefix = f"[{self.index}/{self.total}] {self.label}: " if self.label else ""
        with self._lock:
            print(prefix + text, file=self.stream or sys.stderr, flush=True)

    @contextlib.contextmanager
    def stage(
        self, name: str, doing: str, estimate_s: float | None = None, into: dict[str, float] | None = None
    ) -> Iterator[None]:
        """Print what starts, then how long it took; the time is recorded under `name` (and in `into`)."""
        hint = f" (about {about(estimate_s)} last time)" if estimate_s and estimate_s >= 5 else ""
        self.say(doing + hint)
        start = time.perf_counter()
        ended = "failed after"
        try:
            yield
            ended = "done in"
        finally:
            elapsed = time.perf_counter() - start
            self.record(name, elapsed)
            if into is not None:
                into[name] = round(into.get(name, 0.0) + elapsed, 3)
            self.say(f"{doing}: {ended} {duration(elapsed)}")

    def record(self, name: str, seconds: float) -> None:
        with self._lock:
            self.timings.append((self.label, name, seconds))

    def summary(self) -> dict[str, float]:
        """Seconds per stage over every run since begin(), in the order stages first appeared."""
        totals: dict[str, float] = {}
        for _, name, seconds in self.timings:
            totals[name] = totals.get(name, 0.0) + seconds
        return {name: round(seconds, 3) for name, seconds in totals.items()}

    def summary_text(self) -> str:
        totals = self.summary()
        if not totals:
            return ""
        whole = sum(totals.values())
        parts = [f"{name} {duration(seconds)} ({seconds / whole:.0%})" for name, seconds in totals.items()]
        runs = len({label for label, _, _ in self.timings if label})
        return f"Time per stage over {runs} run(s): " + ", ".join(parts) + f"; {duration(whole)} in all"


PROGRESS = Progress()
