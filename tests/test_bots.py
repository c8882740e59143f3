"""The bot/fake classifier: learns on real slices, explains itself, ignores what the input does not show."""

from __future__ import annotations

from collections import defaultdict

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from config.artifacts import ModelUnavailable
from config.schema import ModelsConfig, ThresholdsConfig
from demo.generate import generate
from models import corpora
from models.bots import PACKAGED, BotClassifier, load_bot_filter
from models.features import FEATURES, batch_features
from models.similarity import near_duplicate_pairs, overlaps, same_source_copies
from models.text_signals import STYLE_FEATURES, style_features
from models.train import yelp_split
from nps.record import parse_time
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
                "author": "regular",
                "entity": f"e{i}",
                "rating": 2,
                "published_at": "2024-01-02",
                "author_facts": {"review_count": 40},
            }
            for i in range(4)
        ],
    ]
    judged = packaged.judge(batch)
    # what the batch itself shows: this author has no other review in it, the four others are regulars
    assert "the author's only review in this stream" in judged[0].evidence
    assert all(isinstance(e, str) and e for j in judged for e in j.evidence)
    cut_off = "Works wonderfully. Has a large enough area to fit the legs of a car, a small enough area to"
    generated = packaged.judge([{"text": cut_off}])[0]
    # the verdict names what to look at in the text: where it stops, what it repeats
    assert (
        'wording typical of machine-generated reviews: stops mid-sentence ("...small enough area to"); '
        "repeats its own phrases"
    ) in generated.evidence
    line = packaged.judge(batch)[0].to_json()  # the fields an `onps score` line gets
    assert set(line) == {"p_bot", "bot", "bot_evidence"} and 0 <= line["p_bot"] <= 1


def test_author_facts_carry_no_weight_the_labelled_data_cannot_give_them(packaged):
    """No labelled set shows a site's review count (YelpCHI's once came from the slice itself, which no input
    line carries), so the learned verdict neither rises nor falls with it; the campaign detector reads it."""
    base = {"id": "x", "text": "Good service, friendly staff, would come back.", "author": "a", "rating": 4}
    bare = packaged.judge([base])[0]
    for count in (1, 300):
        shown = packaged.judge([{**base, "author_facts": {"review_count": count}}])[0]
        assert shown.p_bot == bare.p_bot and not any("account" in e for e in shown.evidence)
    # A bare text (no author, entity, rating or date) still gets a verdict.
    assert 0 <= packaged.judge([{"text": "ok"}])[0].p_bot <= 1


def test_a_bare_text_gets_exactly_its_machine_text_verdict(packaged):
    texts = [
        "Works wonderfully. Has a large enough area to fit the legs of a car, a small enough area to",
        "Ordered the lamb; it came cold, and late.",
    ]
    bare = [j.p_bot for j in packaged.judge([{"text": t} for t in texts])]
    text_only = packaged.classifier.text_models_["generated"].predict_proba(texts)[:, 1]
    assert np.allclose(bare, text_only, atol=1e-3)
    assert bare[0] > 0.5 > bare[1]


def test_style_statistics_see_what_generated_text_does():
    names = list(STYLE_FEATURES)
    glued, human = style_features(
        [
            "I like this book.I have read all the books, the story is well told, the story is well told and the",
            "Bought it in May. Works (mostly) as described, though the lid sticks!",
        ]
    )
    assert glued[names.index("glued_sentences")] == 1 and human[names.index("glued_sentences")] == 0
    assert glued[names.index("ends_sentence")] == 0 and human[names.index("ends_sentence")] == 1
    assert glued[names.index("ends_function_word")] == 1
    assert glued[names.index("repeated_trigrams")] > 0 == human[names.index("repeated_trigrams")]
    assert style_features([""]).shape == (1, len(STYLE_FEATURES))


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
    with pytest.raises(ModelUnavailable, match=r"none.joblib is missing: build it with `onps retrain` .*models.train"):
        load_bot_filter(ModelsConfig(bot_model_path=str(tmp_path / "none.joblib")), ThresholdsConfig())


def test_an_artifact_of_another_format_is_refused_with_what_to_do(tmp_path):
    old = tmp_path / "bot_filter.joblib"
    bundle = joblib.load(PACKAGED)
    del bundle["format"]  # as saved before the format was recorded
    joblib.dump(bundle, old)
    with pytest.raises(ModelUnavailable, match=r"format 1, .* reads format 3: retrain it \(`python -m models.train"):
        load_bot_filter(ModelsConfig(bot_model_path=str(old)), ThresholdsConfig())


COPY_RULE = "by other accounts on the same site"


def _by_entity(bot_filter, records):
    """Judge one entity's records per batch, as the flow does."""
    batches = defaultdict(list)
    for r in records:
        batches[r.get("entity")].append(r)
    return [(r, j) for batch in batches.values() for r, j in zip(batch, bot_filter.judge(batch), strict=True)]


def test_same_source_copies_count_farms_not_syndication_or_common_phrases():
    farm = "Super firm, everything perfect. Thanks Nordkauf!"  # 6 words: counts as an exact copy
    times = [parse_time(f"2024-03-01T{h:02d}:00") for h in range(10)]
    texts = [
        farm,
        farm.lower() + " :)",
        farm.replace("!", "!!"),
        farm,
        farm,
        "very good",
        "very good",
        "very good",
        "very good",
        "A farm text elsewhere about delivery.",
    ]
    authors = [f"a{i}" for i in range(10)]
    sources = ["tp", "tp", "tp", "tp", "shop", "tp", "tp", "tp", "tp", "tp"]
    established = [False] * 10
    copies = same_source_copies(texts, authors, sources, times, established, 2.0)
    assert list(copies[:5]) == [3, 3, 3, 3, 0]  # the copy on another site is syndication, and not counted
    assert list(copies[5:9]) == [0, 0, 0, 0]  # "very good" from established accounts is what people write
    assert list(same_source_copies(texts, authors, sources, times, [True] * 10, 2.0)[5:9]) == [3, 3, 3, 3]
    late = [*times[:3], parse_time("2024-03-09T00:00"), *times[4:]]
    assert same_source_copies(texts, authors, sources, late, established, 2.0)[3] == 0  # outside the window
    assert same_source_copies(texts, ["a"] * 10, sources, times, established, 2.0)[0] == 0  # one author repeating
    long_text = "This vacuum cleaner is the best I have ever owned, powerful suction and a quiet motor, buy it now"
    near = [long_text, long_text.replace("now", "today"), long_text.replace("best", "finest")]
    assert list(same_source_copies(near, ["x", "y", "z"], ["s"] * 3, times[:3], [False] * 3, 2.0)) == [2, 2, 2]


def test_copy_rule_evidence_and_threshold(packaged):
    base = {
        "text": "Great company, I can only recommend them! Best service ever!",
        "entity": "e",
        "source": "tp",
        "rating": 5,
        "published_at": "2024-03-01T10:00",
    }
    farm = [{**base, "id": str(i), "author": f"a{i}"} for i in range(5)]
    judged = packaged.judge(farm)
    assert all(j.bot for j in judged)
    assert judged[0].evidence[0] == "near-duplicate of 4 reviews by other accounts on the same site within 2 days"
    three = packaged.judge(farm[:3])  # two other accounts: below K = 3, the rule stays silent
    assert not any(COPY_RULE in e for j in three for e in j.evidence)
    assert all(t.p_bot < j.p_bot for t, j in zip(three, judged, strict=False))


def test_planted_bots_are_caught_and_genuine_or_syndicated_reviews_are_not(packaged):
    content = generate(seed=7, scale=0.5)
    records = [
        {
            "id": d.id,
            "text": d.text,
            "title": d.title,
            "rating": d.stars,
            "rating_scale": 5,
            "entity": d.entity,
            "author": d.author.name if d.format == "schemaorg" else d.author.id,
            "source": d.source,
            "published_at": d.published_at.isoformat(),
            "kind": d.kind,
            "copy": d.copy_of is not None,
            # as the crawlers show them: only Trustpilot pages carry the reviewer's review count
            "author_facts": {"review_count": d.author.review_count} if d.format == "trustpilot" else {},
        }
        for d in content.docs
        if d.format not in ("discourse", "blog")
    ]
    judged = _by_entity(packaged, records)
    bots = [j.bot for r, j in judged if r["kind"] == "bot"]
    genuine = [j.bot for r, j in judged if r["kind"] == "genuine"]
    syndicated = [j for r, j in judged if r["copy"]]
    assert len(bots) >= 20 and len(syndicated) >= 5
    assert sum(bots) / len(bots) >= 0.7
    assert sum(genuine) / len(genuine) <= 0.02
    assert not any(COPY_RULE in e for j in syndicated for e in j.evidence)


def test_copy_rule_leaves_a_real_stream_alone(packaged):
    need_shared(DATA / "gplay-chatgpt-stream")
    chat = pd.read_csv(DATA / "gplay-chatgpt-stream" / "gplay_reviews_chatgpt_like_app.csv.gz", nrows=5000)
    records = [
        {
            "id": str(r.review_id),
            "text": r.review_text if isinstance(r.review_text, str) else "",
            "rating": r.rating,
            "author": r.user_name,
            "published_at": r.review_time,
            "entity": "chat",
            "source": "gplay",
        }
        for r in chat.itertuples()
    ]
    without_rule = load_bot_filter(ModelsConfig(), ThresholdsConfig(bot_copy_authors=10**6))
    before = sum(j.bot for j in without_rule.judge(records))
    after = sum(j.bot for j in packaged.judge(records))
    assert after - before <= 0.002 * len(records)  # at most 10 new flags in 5,000 real reviews


def test_stream_position_and_author_extremes_from_what_the_batch_shows():
    day = lambda d: f"2024-03-{d:02d}T10:00:00"  # noqa: E731
    records = [
        {"id": "c", "text": "x", "author": "a", "entity": "e", "rating": 5, "published_at": day(9)},
        {"id": "a", "text": "x", "author": "a", "entity": "e", "rating": 1, "published_at": day(1)},
        {"id": "b", "text": "x", "author": "b", "entity": "e", "rating": 3, "published_at": day(2)},
        {"id": "d", "text": "x", "author": "b", "entity": "e", "rating": 3, "published_at": day(4)},
        {"id": "f", "text": "x", "author": "c", "entity": "g", "rating": 2, "published_at": day(5)},
    ]
    X = batch_features(records)
    col = lambda name: X[:, FEATURES.index(name)]  # noqa: E731
    # rank and days look backwards along the entity's own dated stream, whatever the batch order
    assert np.allclose(np.expm1(col("entity_rank")), [3, 0, 1, 2, 0])
    assert np.allclose(np.expm1(col("entity_days")), [8, 0, 1, 3, 0])
    assert np.allclose(np.exp(col("entity_volume")), [4, 4, 4, 4, 1])
    # the author's reviews in the input, over every entity: a twice, b twice, c once
    assert np.allclose(np.expm1(col("author_stream_reviews")), [2, 2, 2, 2, 1])
    # author a rates 1 and 5 (both extreme), b twice 3 (neither), c once 2
    assert np.allclose(col("author_extreme_share"), [1, 1, 0, 0, 0])
    # signed: above the entity's mean (3.0 stars) is positive, below negative; too few ratings -> not shown
    signed = col("rating_signed_deviation")
    assert signed[0] > 0 > signed[1] and signed[2] == 0 and np.isnan(signed[4])


def test_stream_features_are_absent_without_entity_date_or_rating():
    bare = batch_features([{"id": "1", "text": "fine"}, {"id": "2", "text": "ok", "entity": "e"}])
    for name in ("entity_rank", "entity_days", "entity_volume", "author_extreme_share", "rating_signed_deviation",
                 "author_stream_reviews"):
        assert np.isnan(bare[:, FEATURES.index(name)]).all(), name


def test_people_writing_about_films_and_games_are_rarely_flagged(packaged):
    """The unbombed Metacritic / Rotten Tomatoes titles held out of training (and of the sentence-end reference):
    ordinary human reviews in a domain the generated corpus lacks. At 0.9 precision on validation the filter
    once flagged 12% of such Metacritic reviews; the bench target on every human stream is below 3%."""
    need_shared(DATA / "review-bombing-mc-rt")
    _, held = corpora.bombing_controls()
    for platform, rows in held.dropna(subset=["review"]).groupby("platform"):
        sample = rows.sample(400, random_state=3)
        judged = packaged.judge([{"id": str(r.r_id), "text": str(r.review)} for r in sample.itertuples()])
        assert np.mean([j.bot for j in judged]) < 0.03, platform


def test_text_models_read_large_inputs_in_chunks_with_the_same_verdicts(packaged, monkeypatch) -> None:
    """The text models' n-gram matrix of a whole large input is what held `onps estimate` at 3.4 GiB for 100k
    lines; chunked, each record's P(bot) is exactly what it was."""
    import models.bots as bots
    from tests.real_streams import keytrade_records

    records = keytrade_records()[:300]
    whole = [j.p_bot for j in packaged.judge(records)]
    monkeypatch.setattr(bots, "TEXT_CHUNK", 7)
    assert [j.p_bot for j in packaged.judge(records)] == whole
