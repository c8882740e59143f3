"""The bot/fake classifier: learns on real slices, explains itself, ignores what the input does not show."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from config.schema import ModelsConfig, ThresholdsConfig
from models import corpora
from models.bots import BotClassifier, judge_json, load_bot_filter
from models.similarity import near_duplicate_pairs, overlaps
from models.train import yelp_split
from tests.conftest import DATA, need_shared


@pytest.fixture(scope="module")
def packaged():
    return load_bot_filter(ModelsConfig(), ThresholdsConfig())


def test_learns_and_separates_on_a_real_slice():
    need_shared(DATA / "salminen")
    rng = np.random.default_rng(0)
    dev, dev_y = corpora.salminen("dev")
    test, test_y = corpora.salminen("test")
    yelp, yelp_y, products = corpora.yelpchi()
    train_i, _, test_i = yelp_split(products)
    sal = rng.choice(len(dev), 400, replace=False)
    sal_test = rng.choice(len(test), 300, replace=False)
    yelp_tr = rng.choice(train_i, 600, replace=False)
    records = [dev[i] for i in sal] + [yelp[i] for i in yelp_tr]
    labels = np.concatenate([dev_y[sal], yelp_y[yelp_tr]])
    corpus = ["generated"] * len(sal) + ["human"] * len(yelp_tr)
    model = BotClassifier(folds=2, hash_bits=16).fit(records, labels, corpus=corpus)
    p_text = model.predict_proba([test[i] for i in sal_test])[:, 1]
    assert roc_auc_score(test_y[sal_test], p_text) > 0.8
    p_yelp = model.predict_proba([yelp[i] for i in test_i])[:, 1]
    assert roc_auc_score(yelp_y[test_i], p_yelp) > 0.65


def test_evidence_is_in_an_analysts_words(packaged):
    batch = [
        {
            "id": "1",
            "text": "Nice place, good food.",
            "author": "a",
            "entity": "e",
            "rating": 5,
            "published_at": "2024-01-01",
            "author_facts": {"review_count": 1},
        },
        *[
            {
                "id": f"o{i}",
                "text": "Ordered the lamb, it was cold and the waiter forgot our drinks twice.",
                "author": f"o{i}",
                "entity": "e",
                "rating": 2,
                "published_at": "2024-01-02",
                "author_facts": {"review_count": 40},
            }
            for i in range(4)
        ],
    ]
    judged = packaged.judge(batch)
    assert "account with 1 review" in judged[0].evidence
    assert all(isinstance(e, str) and e for j in judged for e in j.evidence)
    generated = packaged.judge([{"text": "did not like them as much as the regular ones. I wi"}])[0]
    assert "wording typical of machine-generated reviews" in generated.evidence
    line = judge_json(batch, None, packaged)[0]
    assert set(line) == {"p_bot", "bot", "bot_evidence"} and 0 <= line["p_bot"] <= 1


def test_absent_author_facts_are_harmless(packaged):
    base = {"id": "x", "text": "Good service, friendly staff, would come back.", "author": "a", "rating": 4}
    bare = packaged.judge([base])[0]
    new = packaged.judge([{**base, "author_facts": {"review_count": 1}}])[0]
    old = packaged.judge([{**base, "author_facts": {"review_count": 300}}])[0]
    assert old.p_bot < bare.p_bot < new.p_bot
    assert not any("account" in e for e in bare.evidence)
    # A bare text (no author, entity, rating or date) still gets a verdict.
    assert 0 <= packaged.judge([{"text": "ok"}])[0].p_bot <= 1


def test_near_duplicates_across_authors_only():
    text = "This vacuum cleaner is the best I have ever owned, powerful suction and a quiet motor, buy it now"
    texts = [
        text,
        text.replace("now", "today"),
        text.replace("best", "finest"),
        text,
        "Short one.",
        "A completely different review about a toaster that burns bread on the lowest setting every time.",
    ]
    authors = ["a", "b", "c", "a", "d", "e"]
    found = overlaps(texts, authors)
    assert list(found.near_duplicate_authors[:4]) == [2, 2, 2, 2]  # "a" twice counts once, never itself
    assert found.near_duplicate_authors[4] == 0 and found.near_duplicate_authors[5] == 0
    pairs = near_duplicate_pairs(texts, authors)
    assert (0, 3) not in pairs and (0, 1) in pairs and (1, 3) in pairs


def test_missing_artifact_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="models.train"):
        load_bot_filter(ModelsConfig(bot_model_path=str(tmp_path / "none.joblib")), ThresholdsConfig())
