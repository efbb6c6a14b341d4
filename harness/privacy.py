"""Privacy: telemetry and network defaults (applied before any third-party import), and API-key redaction."""

import logging
import os
import re

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
    """Turn telemetry off and the hub offline unless the user set these variables themselves.

    A user opts back in by exporting the variable, e.g. HF_HUB_OFFLINE=0 to load an `hf:` dataset.
    """
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)


KEY_VARIABLES = ("GOOGLE_API_KEY", "GEMINI_API_KEY")
# Google API keys have a fixed shape; a key that reaches a message by any route is caught by it.
_GOOGLE_KEY = re.compile(r"AIza[0-9A-Za-z_\-]{35}")
REDACTED = "[redacted]"


def api_key() -> str | None:
    """The Gemini API key from GOOGLE_API_KEY, else GEMINI_API_KEY (the order langchain-google-genai uses)."""
    for name in KEY_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def scrub(text: str) -> str:
    """`text` with every API key in the environment (and anything shaped like a Google key) redacted.

    Applied to every error message the harness records or prints, so a key echoed by an SDK exception
    cannot reach records, reports, MLflow or the terminal.
    """
    for name in KEY_VARIABLES:
        value = os.environ.get(name, "").strip()
        if len(value) >= 8:
            text = text.replace(value, REDACTED)
    return _GOOGLE_KEY.sub(REDACTED, text)


class ScrubFilter(logging.Filter):
    """A logging filter that redacts API keys from every record (installed on the root handlers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
