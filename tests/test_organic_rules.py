"""Who is an author and how a review was collected: the rules that decide what is organic, on real streams."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest

from config.schema import OnpsConfig
from nlp.disclosure import collection_channel, disclosed_reward
from nps.authors import resolve_authors
from tests.conftest import need_shared

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
RULES = OnpsConfig().author_rules()


@pytest.mark.parametrize("text", [
    "I received this product for free in exchange for my honest opinion.",
    "Ich habe das Produkt kostenlos zum Testen erhalten.",
    "J'ai reçu ce produit gratuitement en échange d'un avis.",
    "Recibí este producto gratis a cambio de una reseña honesta.",
    "Получила товар бесплатно в обмен на честный отзыв.",
    "Jeg har modtaget produktet gratis.",
    "Ik heb dit product gratis ontvangen in ruil voor een eerlijke review.",
    "I was asked by the bank to leave a review, so here it is.",
    "This review is part of the Amazon Vine programme.",
])
def test_reward_disclosures_in_every_language(text):
    assert disclosed_reward(text)


@pytest.mark.parametrize("text", [
    "I got a free replacement after I complained, thanks.",
    "Keytrade offered 50 euros with the promocode last year.",
    "Habe als Ersatz eine kostenlos nachgesendet bekommen.",
    "Free delivery and the app is free to use.",
])
def test_ordinary_mentions_of_free_things_are_not_disclosures(text):
    assert disclosed_reward(text) is None


def test_disclosures_are_rare_in_real_reviews():
    """On 9,900 real German and English MARC reviews a wrongly read disclosure would show up as a rate."""
    for lang in ("de", "en"):
        texts = []
        for path in sorted((DATA / "marc-seeds").glob(f"{lang}_*_train.csv")):
            with need_shared(path).open(encoding="utf-8") as handle:
                texts += [row["text"] for row in csv.DictReader(handle)]
        assert len(texts) > 4000
        assert sum(disclosed_reward(t) is not None for t in texts) / len(texts) < 0.002


def test_a_disclosure_in_the_text_outweighs_what_the_source_says():
    assert collection_channel({"text": "Great", "invited": False}).invited is False
    assert collection_channel({"text": "Great", "invited": True, "channel": "trustpilot: BasicLink"}).evidence == \
        "the source says: trustpilot: BasicLink"
    disclosed = collection_channel({"text": "I received it free of charge in exchange for an honest review",
                                    "invited": False})
    assert disclosed.invited is True and "the reviewer says" in disclosed.evidence
    assert collection_channel({"text": "Great"}).invited is None


def test_placeholder_names_are_no_author_in_any_language():
    records = [{"id": str(i), "author": name, "text": "x", "entity": "A"}
               for i, name in enumerate(["A Google user", "a google-user", "Ein Kunde", "Покупатель", "VERIFIED BUYER",
                                         "anna_k"])]
    resolved = resolve_authors(records, RULES)
    assert [r["author"] for r in resolved] == [None] * 5 + ["anna_k"]
    assert resolved[0]["author_name"] == "A Google user" and resolved[0]["author_anonymous"] is True


def _busy(author: str, texts: list[str]) -> list[dict]:
    return [{"id": f"{author}{i}", "author": author, "entity": "Bank", "text": t,
             "published_at": f"2025-03-{1 + i:02d}T10:00:00Z"} for i, t in enumerate(texts)]


def test_a_name_too_busy_for_one_person_is_no_author_unless_it_posts_copies():
    distinct = _busy("Mobile", [f"review {i} about the transfer screen and the login that fails again today"
                                for i in range(12)])
    copies = _busy("Farm", ["This is the best bank app I have ever used, five stars from me and my family"] * 12)
    few = _busy("Vincent", ["ok"] * 3)
    resolved = {r["id"]: r["author"] for r in resolve_authors(distinct + copies + few, RULES)}
    assert {resolved[r["id"]] for r in distinct} == {None}
    assert {resolved[r["id"]] for r in copies} == {"Farm"}  # a busy account posting copies stays one (a bot)
    assert {resolved[r["id"]] for r in few} == {"Vincent"}
    shuffled = distinct + copies + few
    random.Random(3).shuffle(shuffled)
    assert {r["id"]: r["author"] for r in resolve_authors(shuffled, RULES)} == resolved


def test_keytrade_reviewers_are_real_people():
    """Trustpilot ids are real accounts: none of the 1,049 Keytrade reviews loses its author."""
    reviews = json.loads(need_shared(DATA / "trustpilot-keytrade-raw" / "reviews.json").read_text())
    records = [{"id": r["id"], "author": r["consumer"]["id"], "entity": "Keytrade", "text": r["text"],
                "published_at": r["dates"]["publishedDate"]} for r in reviews]
    assert all(r["author"] for r in resolve_authors(records, RULES))
