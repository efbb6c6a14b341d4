"""Telemetry and network defaults, applied before any third-party library is imported."""

import os

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
