"""The campaign detector on real streams: planted smear found, untouched stream quiet, real incidents told apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from config.schema import ThresholdsConfig
from models import corpora
from models.campaigns import detect_campaigns
from models.injection import plant
from tests.conftest import DATA, need_shared

ENTITY = "amazon:B0012Y0ZG2"  # 879 real reviews of one product, 2009-2018
START = datetime(2016, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def streams():
    need_shared(DATA / "amazon-5core-small")
    return corpora.streams()


def plant_30(streams, **how):  # noqa: ANN001, ANN003, ANN201
    """30 reviews planted over two days from START into the test entity's real stream, without author facts."""
    return plant(streams[ENTITY], ENTITY, size=30, start=START, days=2, with_facts=False, **how)


def test_untouched_stream_is_not_flagged(streams):
    findings = detect_campaigns(streams[ENTITY], ThresholdsConfig())
    assert [f for f in findings if f.kind != "incident"] == []


def test_planted_smear_burst_is_found_with_its_members(streams):
    stream, planted = plant_30(streams, bot_share=0.6, wording="templated", polarity="negative", seed=7)
    findings = [f for f in detect_campaigns(stream, ThresholdsConfig()) if f.kind == "smear"]
    assert len(findings) == 1
    smear = findings[0]
    assert len(planted.member_ids & set(smear.member_ids)) >= 27
    assert smear.window_start <= START + timedelta(days=2) and smear.window_end >= START
    assert smear.p_value < ThresholdsConfig().campaign_p_value
    assert smear.evidence["coordinated_share"] > 0.3 and "near-duplicates" in smear.evidence["summary"]
    # The nightly view on the campaign's last day sees it too, without looking ahead.
    nightly = detect_campaigns(stream, ThresholdsConfig(), now=START + timedelta(days=1))
    assert [f.kind for f in nightly] == ["smear"]


@pytest.mark.parametrize("polarity, kind", [("negative", "smear"), ("positive", "stuffing")])
def test_campaign_in_varied_wording_is_a_campaign(streams, polarity, kind):
    # No near-duplicates and no author facts: the members still write short, unspecific text drawn from one bank
    # of sentences, which the entity's own reviewers do not.
    stream, planted = plant_30(streams, bot_share=1.0, wording="varied", polarity=polarity, seed=11)
    findings = [f for f in detect_campaigns(stream, ThresholdsConfig()) if f.kind == kind]
    assert len(findings) == 1
    assert len(planted.member_ids & set(findings[0].member_ids)) >= 27
    assert findings[0].evidence["coordinated_share"] < 0.3  # not caught as near-duplicates


def test_genuine_complaint_wave_is_an_incident(streams):
    # Real, diverse one- and two-star reviews of OTHER products, written by established accounts, arrive
    # within two days: a wave after a real problem, not a campaign.
    donors = [
        r
        for name, records in streams.items()
        if name.startswith("amazon:") and name != ENTITY
        for r in records
        if r["rating"] <= 2 and len(r["text"].split()) >= 15
    ][:30]
    wave = [
        {
            **r,
            "id": f"wave-{i}",
            "author": f"established-{i}",
            "published_at": (START + timedelta(hours=1.5 * i)).isoformat(),
            "p_bot": 0.05,
            "author_facts": {"review_count": 25 + i, "account_age_days": 900},
        }
        for i, r in enumerate(donors)
    ]
    assert len(wave) == 30
    stream = sorted([*streams[ENTITY], *wave], key=lambda r: r["published_at"])
    findings = detect_campaigns(stream, ThresholdsConfig())
    assert [f.kind for f in findings] == ["incident"]
    assert {f"wave-{i}" for i in range(30)} <= set(findings[0].member_ids)
    assert findings[0].evidence["new_account_share"] == 0.0


def test_empty_and_undated_streams_give_nothing():
    assert detect_campaigns([], ThresholdsConfig()) == []
    assert detect_campaigns([{"id": "1", "text": "x", "rating": 1}], ThresholdsConfig()) == []


def test_the_detector_takes_its_tunables_from_the_config(streams):
    stream, _ = plant_30(streams, bot_share=0.6, wording="templated", polarity="negative", seed=7)
    [smear] = [f for f in detect_campaigns(stream, ThresholdsConfig(campaign_windows=(2,))) if f.kind == "smear"]
    assert (smear.window_end - smear.window_start).days == 1  # the one window tested is two days long
    assert smear.evidence["echo_share"] > 0.3
    [smear] = [f for f in detect_campaigns(stream, ThresholdsConfig(campaign_echo_min_words=1000)) if f.kind == "smear"]
    assert smear.evidence["echo_share"] == 0.0  # no sentence is that long
