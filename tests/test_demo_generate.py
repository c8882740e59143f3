"""The demo generator: deterministic, its truth follows from its documents, and its plants look like what they are."""

from __future__ import annotations

import difflib
import statistics
import tomllib
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from demo.brands import BRANDS, SMEAR_TARGET, written_forms
from demo.config import DEMO_TOML, demo_config
from demo.generate import BOT_BURST_HOURS, REFERENCE_DATE, SMEAR_HOURS, WEEKS, digest, generate
from demo.model import APPSTORE_MAX_PAGES, APPSTORE_PAGE_SIZE, FORMATS, KINDS, load_content
from demo.phrasebank import BANKS, LANGUAGES, REASON_CODES, REASONS, SMEAR_REASON
from demo.truth import load
from flows.cli import app

REASONS_TOML = Path(__file__).resolve().parents[1] / "nlp" / "data" / "reasons.toml"


@pytest.fixture(scope="module")
def content():
    return generate(seed=5, scale=0.5)


def test_same_seed_same_content_other_seed_other_content(content) -> None:
    assert digest(generate(seed=5, scale=0.5)) == digest(content)
    assert digest(generate(seed=6, scale=0.5)) != digest(content)


def test_scale_multiplies_volume(content) -> None:
    double = generate(seed=5, scale=1.0)
    assert 1.8 < len(double.docs) / len(content.docs) < 2.2


def test_truth_nps_is_the_genuine_true_scores(content) -> None:
    for b in BRANDS:
        scores = [d.true_score for d in content.docs if d.entity == b.name and d.kind == "genuine"
                  and d.true_score is not None and d.copy_of is None and not d.invited]
        promoters = sum(s >= 9 for s in scores)
        detractors = sum(s <= 6 for s in scores)
        truth = content.truth.brands[b.name]
        assert truth.n_genuine == len(scores) > 50
        assert truth.true_nps == pytest.approx(100 * (promoters - detractors) / len(scores), abs=0.01)
    values = sorted(t.true_nps for t in content.truth.brands.values())
    assert values[-1] - values[0] > 20, "the brands should differ clearly"


def test_invited_reviews_run_higher_and_have_their_own_truth(content) -> None:
    """Invited reviews are the happy path of real customers: the organic truth leaves them out."""
    for b in BRANDS:
        invited = [d.true_score for d in content.docs if d.entity == b.name and d.invited]
        organic = [d.true_score for d in content.docs if d.entity == b.name and d.kind == "genuine"
                   and not d.invited and d.true_score is not None]
        truth = content.truth.brands[b.name]
        assert truth.n_invited == len(invited) > 10
        assert {d.format for d in content.docs if d.invited} == {"trustpilot"}
        assert truth.invited_nps is not None and truth.invited_nps > truth.true_nps + 15
        assert statistics.mean(s for s in invited if s is not None) > statistics.mean(organic)


def test_anonymous_reviewers_share_one_placeholder_name(content) -> None:
    """Several people under "Anonymous" on one shop: the truth counts each (the pipeline must not merge them)."""
    from demo.truth import PLACEHOLDER_NAMES

    for b in BRANDS:
        anonymous = [d for d in content.docs if d.entity == b.name and d.author.name in PLACEHOLDER_NAMES]
        assert len(anonymous) == content.truth.brands[b.name].n_anonymous >= 3
        assert {d.format for d in anonymous} == {"schemaorg"} and {d.kind for d in anonymous} == {"genuine"}
        assert len({d.author.id for d in anonymous}) < len(anonymous)  # one author key, many people


def test_fakes_carry_no_true_score_and_are_listed(content) -> None:
    kinds = Counter(d.kind for d in content.docs)
    assert kinds["bot"] > 0 and kinds["smear"] > 0 and kinds["genuine"] > kinds["bot"] + kinds["smear"]
    assert set(content.truth.bot_ids) == {d.id for d in content.docs if d.kind == "bot"}
    assert all(d.true_score is None for d in content.docs if d.kind != "genuine")
    assert len({d.id for d in content.docs}) == len(content.docs), "ids must be unique across sources"


def test_dates_span_twelve_weeks_to_the_reference(content) -> None:
    dates = [d.published_at for d in content.docs]
    assert max(dates) <= REFERENCE_DATE
    assert min(dates) >= REFERENCE_DATE - timedelta(weeks=WEEKS)
    assert max(dates) - min(dates) > timedelta(weeks=WEEKS - 1)


def test_smear_campaign_is_a_short_burst_of_new_one_star_accounts(content) -> None:
    camp = content.truth.campaign
    members = [d for d in content.docs if d.id in set(camp.member_ids)]
    assert camp.entity == SMEAR_TARGET and len(members) >= 10
    assert camp.window_end - camp.window_start <= timedelta(hours=SMEAR_HOURS)
    assert all(d.kind == "smear" and d.stars == 1 for d in members)
    assert all(d.published_at - d.author.created_at <= timedelta(days=3) for d in members)
    assert all(d.author.review_count <= 2 for d in members)
    # shared phrasing: nearly every member is a near-copy of another member
    texts = [d.text.lower() for d in members]
    copies = sum(
        max(difflib.SequenceMatcher(None, text, other).ratio() for j, other in enumerate(texts) if j != i) > 0.7
        for i, text in enumerate(texts)
    )
    assert copies >= 0.9 * len(texts)


def test_bots_post_near_duplicates_in_bursts(content) -> None:
    bots = [d for d in content.docs if d.kind == "bot"]
    for d in bots:
        mates = [o for o in bots if o is not d and o.entity == d.entity
                 and abs(o.published_at - d.published_at) <= timedelta(hours=BOT_BURST_HOURS)]
        assert mates, f"bot {d.id} has no burst"
        assert max(difflib.SequenceMatcher(None, d.text.lower(), o.text.lower()).ratio() for o in mates) > 0.7
        assert d.author.review_count <= 2 and d.stars is not None and d.stars >= 4


def test_syndicated_copies_repeat_a_genuine_review_on_another_site(content) -> None:
    by_id = {d.id: d for d in content.docs}
    copies = [d for d in content.docs if d.copy_of is not None]
    assert copies
    for copy in copies:
        original = by_id[copy.copy_of]
        assert (copy.text, copy.author.name, copy.entity) == (original.text, original.author.name, original.entity)
        assert copy.source != original.source and copy.published_at >= original.published_at
    assert sum(b.n_copies for b in content.truth.brands.values()) == len(copies)


def test_incident_is_genuine_and_about_the_app(content) -> None:
    (incident,) = content.truth.incidents
    members = [d for d in content.docs if d.id in set(incident.member_ids)]
    assert incident.reason == "usability_app-"
    assert all(d.kind == "genuine" and d.true_score is not None and d.true_score <= 6 for d in members)
    assert all("usability_app-" in d.reasons for d in members)


def test_stars_follow_the_true_score_noisily(content) -> None:
    rated = [d for d in content.docs if d.kind == "genuine" and d.stars is not None]
    by_class = {name: [d.stars for d in rated if lo <= d.true_score <= hi]
                for name, lo, hi in (("promoter", 9, 10), ("passive", 7, 8), ("detractor", 0, 6))}
    means = {k: statistics.mean(v) for k, v in by_class.items()}
    assert means["promoter"] > means["passive"] > means["detractor"]
    assert any(s < 5 for s in by_class["promoter"]), "stars are satisfaction, not a copy of the score"


def test_english_text_sentiment_matches_the_true_score(content) -> None:
    vader = pytest.importorskip("vaderSentiment.vaderSentiment").SentimentIntensityAnalyzer()
    english = [d for d in content.docs if d.kind == "genuine" and d.lang == "en"]
    compound = {name: statistics.mean(vader.polarity_scores(d.text)["compound"] for d in english
                                      if lo <= d.true_score <= hi)
                for name, lo, hi in (("promoter", 9, 10), ("passive", 7, 8), ("detractor", 0, 6))}
    assert compound["promoter"] > compound["passive"] > compound["detractor"]
    assert compound["promoter"] > 0.5 and compound["detractor"] < 0


def test_documents_use_only_the_declared_formats_kinds_and_languages(content) -> None:
    assert {d.format for d in content.docs} == set(FORMATS)
    assert {d.kind for d in content.docs} == set(KINDS)
    assert {d.lang for d in content.docs} == set(LANGUAGES) == {"de", "en", "da", "ru"}


def test_every_phrase_bank_has_every_key_and_reason() -> None:
    keys = set(BANKS["en"])
    for b in BRANDS:
        assert set(b.reason_weights) <= set(REASONS)
    assert {f"{r}{sign}" for r in REASONS for sign in "+-"} <= keys
    for lang, bank in BANKS.items():
        assert set(bank) == keys, f"{lang}: {set(bank) ^ keys}"
        assert all(bank[key] for key in keys), f"{lang} has an empty list"


def test_reason_codes_are_the_nlp_taxonomy(content) -> None:
    taxonomy = set(tomllib.loads(REASONS_TOML.read_text(encoding="utf-8"))["reasons"])
    assert set(REASON_CODES) == set(REASONS) and set(REASON_CODES.values()) | {SMEAR_REASON} <= taxonomy
    recorded = {r[:-1] for d in content.docs for r in d.reasons}
    assert recorded <= taxonomy and len(recorded) >= 7
    assert all(r[-1] in "+-" for d in content.docs for r in d.reasons)


def test_every_brand_form_is_a_config_alias(content) -> None:
    config = demo_config()
    for b in BRANDS:
        aliases = set(config.entity(b.name).all_aliases())
        for forms in written_forms(b).values():
            assert set(forms) <= aliases, f"{b.name}: {set(forms) - aliases} missing from examples/demo/onps.toml"
    assert {d.source for d in content.docs} == {s.name for s in config.sources}


def test_forum_and_blog_opinions_name_their_brand_and_chatter_names_none(content) -> None:
    config = demo_config()
    aliases = {e.name: [a.casefold() for a in e.all_aliases()] for e in config.entities}
    every = [a for names in aliases.values() for a in names]
    for d in content.docs:
        text = d.text.casefold()
        if d.format in ("discourse", "feed") and d.kind == "genuine":
            assert any(a in text for a in aliases[d.entity]), d.text
        if d.kind == "offtopic":
            assert not any(a in text for a in every), d.text


def test_appstore_feed_never_holds_more_than_it_can_show() -> None:
    big = generate(seed=1, scale=6)
    per_feed = Counter(d.source for d in big.docs if d.format == "appstore")
    assert max(per_feed.values()) == APPSTORE_PAGE_SIZE * APPSTORE_MAX_PAGES


def test_save_and_load_round_trip(content, tmp_path) -> None:
    content.save(tmp_path)
    again = load_content(tmp_path)
    assert digest(again) == digest(content)
    truth = load(tmp_path / "truth.json")
    assert truth.campaign == content.truth.campaign
    assert truth.brands == content.truth.brands


def test_cli_generate_writes_content_and_truth(tmp_path) -> None:
    result = CliRunner().invoke(app, ["demo", "generate", "--out", str(tmp_path / "d"), "--scale", "0.2"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "d" / "content.jsonl").exists() and (tmp_path / "d" / "truth.json").exists()
    assert "Nordkauf" in result.output
    bad = CliRunner().invoke(app, ["demo", "generate", "--out", str(tmp_path / "e"), "--scale", "0"])
    assert bad.exit_code == 2


def test_demo_config_checks_on_the_command_line() -> None:
    result = CliRunner().invoke(app, ["-c", str(DEMO_TOML), "config", "check"])
    assert result.exit_code == 0, result.output
    assert "3 entities, 11 sources" in result.output

