"""Privacy: telemetry and network defaults (applied before any third-party import), and API-key redaction."""

import logging
import os
import re
from pathlib import Path

# Each library reads its switch at import time. The values are the ones each library checks for:
# ragas ignores RAGAS_DO_NOT_TRACK=1, it wants the string "true".
DEFAULTS = {
    "RAGAS_DO_NOT_TRACK": "true",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def apply_privacy_defaults() -> None:
    """Turn telemetry off and the hub offline unless the user set these variables themselves, and keep
    the caches libraries write of the user's data inside the harness's cache folder.

    A user opts back in by exporting the variable, e.g. HF_HUB_OFFLINE=0 to load an `hf:` dataset.
    """
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
    # Each library reads these at import time, so they are set before anything imports it. datasets keeps
    # Arrow copies of the suite's tables (sources.py also passes cache_dir), evaluate copies the ROUGE
    # module and keeps a lock file per computation, matplotlib writes its font list: without these they
    # land in ~/.cache and outlive `make clean`. The Hugging Face hub cache (HF_HOME) is left alone: it
    # holds the user's downloaded models.
    root = Path(os.environ.get("HARNESS_CACHE_DIR") or Path(".cache") / "harness").absolute()
    for name, folder in CACHE_FOLDERS.items():
        os.environ.setdefault(name, str(root / folder))


CACHE_FOLDERS = {
    "HF_DATASETS_CACHE": "datasets",
    "HF_MODULES_CACHE": "hf-modules",  # evaluate's (and datasets') copies of metric modules
    "HF_EVALUATE_CACHE": "hf-evaluate",
    "HF_METRICS_CACHE": "hf-metrics",  # evaluate's per-computation Arrow files and their locks
    "MPLCONFIGDIR": "matplotlib",
}


KEY_VARIABLES = ("GOOGLE_API_KEY", "GEMINI_API_KEY")
# Other variables whose values are secrets by their name (HF_TOKEN, OPENAI_API_KEY, MLFLOW_TRACKING_PASSWORD).
_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD)$")
# Key shapes, caught whatever their exact length and whether or not they are in the environment: a
# Google key (AIza + 35 characters today), sk- style keys (sk-..., sk-proj-..., sk-ant-...), Hugging Face
# tokens (hf_...), and whatever follows a key header or a key= query parameter.
_KEY_SHAPES = re.compile(
    r"AIza[0-9A-Za-z_\-]{20,}"
    r"|\bsk-[0-9A-Za-z_\-]{16,}"
    r"|\bhf_[0-9A-Za-z]{20,}"
    r"|(?<=x-goog-api-key: )[^\s'\",}]+"
    r"|(?<=[?&]key=)[^\s&'\"]+",
    re.IGNORECASE,
)
REDACTED = "[redacted]"


def api_key() -> str | None:
    """The Gemini API key from GOOGLE_API_KEY, else GEMINI_API_KEY (the order langchain-google-genai uses)."""
    for name in KEY_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def scrub(text: str) -> str:
    """`text` with every API key in the environment, and anything shaped like a key, redacted.

    Applied to every error message the harness records or prints, so a key echoed by an SDK exception
    cannot reach records, reports, MLflow or the terminal. Matching the shape as well as the value
    catches a key of another length, or one that never was in this environment.
    """
    for name, value in os.environ.items():
        value = value.strip()
        if len(value) >= 8 and (name in KEY_VARIABLES or _SECRET_NAME.search(name.upper())):
            text = text.replace(value, REDACTED)
    return _KEY_SHAPES.sub(REDACTED, text)


class ScrubFilter(logging.Filter):
    """A logging filter that redacts API keys from every record (installed on the root handlers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
