"""The machine-text model's parts: sentence-end plausibility, naive Bayes n-gram weights, the stack."""

from __future__ import annotations

import io
import math

import joblib
import numpy as np
import pytest
from scipy import sparse

from config.schema import ModelsConfig, ThresholdsConfig
from models.bots import load_bot_filter
from models.machine_text import MachineTextModel, NaiveBayesWeights
from models.sentence_ends import FEATURES, SentenceEnds
from models.text_signals import machine_signs

REFERENCE = [
    "The quality is great. I bought it for my son. He loves the quality.",
    "Good quality. We use it for walks. Fits well.",
    "Bought it for the garden. The quality is fine. Would buy again",
]


def test_sentence_ends_count_where_people_stop():
    ends = SentenceEnds.count(REFERENCE, min_count=1)
    # "quality" ends 2 of its 4 sentences, "for" none of its 3; "again" is only ever a text's unpunctuated
    # last word, whose ending is what the feature predicts, so it is never counted
    assert ends.words["quality"] == (4, 2)
    assert ends.words["for"] == (3, 0)
    assert "again" not in ends.words
    stopped, cut = ends.rates("Very good quality"), ends.rates("I bought it for")
    assert stopped[0] > cut[0] and stopped[1] > cut[1]
    # an unseen word backs off to the reference's overall rate
    assert ends.rates("zebra")[0] == pytest.approx(math.log(ends.base_rate))
    assert ends.features(["", "Good quality"]).shape == (2, len(FEATURES))


def test_sentence_ends_drop_rare_keys_and_refuse_an_empty_reference():
    ends = SentenceEnds.count(REFERENCE, min_count=3)
    assert set(ends.words) == {"quality", "for", "it", "the"}
    assert all(n >= 3 for n, _ in ends.bigrams.values())
    with pytest.raises(ValueError, match="human-written texts"):
        SentenceEnds.count(["", "..."])


def test_the_packaged_reference_tells_a_cut_off_review():
    # counted from 131k real reviews at training time (models.corpora.sentence_reference), shipped in the artifact
    ends = load_bot_filter(ModelsConfig(), ThresholdsConfig()).classifier.sentence_ends
    assert len(ends.words) > 10_000 and len(ends.bigrams) > 50_000
    finished = ["Very good quality", "I would recommend it", "Great movie", "Loved it"]
    cut_off = ["It is sharp enough to cut through a large", "My first choice to use", "and I got a lot of the"]
    lowest_finished = min(ends.rates(t)[1] for t in finished)
    assert all(ends.rates(t)[1] < lowest_finished for t in cut_off)


def test_naive_bayes_weights_favour_one_sided_features():
    # feature 0 only in machine texts, 1 only in human ones, 2 in both alike
    X = sparse.csr_matrix(np.array([[1, 0, 1], [1, 0, 1], [0, 1, 1], [0, 1, 1]]))
    weights = NaiveBayesWeights().fit(X, [1, 1, 0, 0])
    assert weights.ratio_[0] > 0 > weights.ratio_[1]
    assert weights.ratio_[2] == pytest.approx(0.0)
    assert np.allclose(weights.transform(X).toarray()[0], [weights.ratio_[0], 0, weights.ratio_[2]])


def test_the_stack_uses_sentence_ends_when_given_and_survives_a_round_trip():
    buyers = [(n, "son" if n % 2 else "wife") for n in range(2, 22)]
    cut = [f"I bought {n} of these for my {who} and the" for n, who in buyers]
    whole = [f"I bought {n} of these for my {who}. Works well." for n, who in buyers]
    texts, y = cut + whole, np.array([1] * len(cut) + [0] * len(whole))
    ends = SentenceEnds.count(REFERENCE, min_count=1)
    plain = MachineTextModel(hash_bits=12, folds=2).fit(texts, y)
    with_ends = MachineTextModel(hash_bits=12, folds=2, sentence_ends=ends).fit(texts, y)
    assert with_ends.top_.n_features_in_ == plain.top_.n_features_in_ + len(FEATURES)
    buffer = io.BytesIO()
    joblib.dump(with_ends, buffer)
    buffer.seek(0)
    loaded = joblib.load(buffer)
    assert np.allclose(loaded.predict_proba(texts), with_ends.predict_proba(texts))
    assert (
        loaded.predict(["I bought 40 of these for my dad and the", "I bought 40 of these for my dad. Works well."])
        == [1, 0]
    ).all()


def test_machine_signs_say_what_to_look_at():
    ends = SentenceEnds.count(REFERENCE * 50)  # enough counts for "it for" to fall under CUT_OFF_RATE
    assert machine_signs("We use it for walks. I bought it for", ends) == ['stops mid-sentence ("...I bought it for")']
    # no final stop, but people stop after "quality": no sign; a final stop: never cut off
    assert machine_signs("Fits well, good quality", ends) == []
    assert machine_signs("I bought it for.", ends) == []
    repeated = "the story is well told and the story is well told and the story is well told."
    assert machine_signs(repeated, ends) == ["repeats its own phrases"]
    assert machine_signs("I like this book.I have read all of them.", ends) == [
        "runs sentences together without a space"
    ]
    # without a reference, only an ending on a function word counts as cut off
    assert machine_signs("I bought it for") == ['stops mid-sentence ("...I bought it for")']
    assert machine_signs("Fits well, good quality") == []
    assert machine_signs("") == []
