"""Reason codes, polarity, evidence spans, touchpoints and active detractors in several languages."""

from __future__ import annotations

import pytest

from nlp.reasons import analyse, find_reasons, is_active_detractor, reason_codes, taxonomy, touchpoint

REQUIRED = {"price", "delivery", "customer_service", "product_quality", "usability_app", "billing_refunds",
            "trust_fraud", "staff", "availability"}


def test_taxonomy_covers_the_required_codes_in_the_required_languages() -> None:
    assert REQUIRED <= set(reason_codes())
    for code in REQUIRED:
        for lang in ("de", "en", "da", "ru"):
            assert taxonomy()["reasons"][code].get(lang), f"{code} has no {lang} terms"


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("The delivery was fast but customer service was rude and unhelpful.", "en",
         {("delivery", "positive"), ("customer_service", "negative")}),
        ("Die Lieferung war nicht schnell. Der Preis ist okay, aber die Qualität ist mies.", "de",
         {("delivery", "negative"), ("price", "positive"), ("product_quality", "negative")}),
        ("Levering var hurtig, men kundeservice var elendig.", "da",
         {("delivery", "positive"), ("customer_service", "negative")}),
        ("Доставка быстрая, но качество ужасное.", "ru", {("delivery", "positive"), ("product_quality", "negative")}),
        ("Kein Problem mit der Rückerstattung.", "de", {("billing_refunds", "positive")}),
    ],
)
def test_codes_and_polarity(text: str, lang: str, expected: set[tuple[str, str]]) -> None:
    hits = find_reasons(text, lang)
    assert {(h.code, h.polarity) for h in hits} == expected
    for hit in hits:
        assert hit.evidence and hit.evidence in text


def test_compounds_and_inflections_match() -> None:
    assert {h.code for h in find_reasons("Die Versandkosten und die Kundenhotline sind eine Zumutung.", "de")} >= {
        "delivery", "customer_service"}
    assert "delivery" in {h.code for h in find_reasons("Ждал доставку две недели.", "ru")}


def test_long_sentence_evidence_is_a_window_of_the_text() -> None:
    text = "Ich habe " + "wirklich " * 60 + "lange auf die Lieferung gewartet und " + "sehr " * 60 + "gelitten."
    (hit,) = find_reasons(text, "de")
    assert hit.code == "delivery" and "Lieferung" in hit.evidence and hit.evidence in text
    assert len(hit.evidence) < len(text) / 2


def test_sentence_polarity_fallback_is_used_only_without_a_cue() -> None:
    text = "I called support about my invoice."
    assert {h.polarity for h in analyse([text], ["en"])[0].reasons} == {"neutral"}
    judged = analyse([text], ["en"], sentence_polarity=lambda sentences: [-0.9] * len(sentences))[0]
    assert {h.polarity for h in judged.reasons} == {"negative"}


def test_touchpoints() -> None:
    assert touchpoint("I called the hotline twice and waited on hold for an hour.", "en") == "support_contact"
    assert touchpoint("Das Paket kam nach drei Wochen beschädigt an, die Lieferung war ein Witz.", "de") == "delivery"
    assert touchpoint("Appen crasher hver gang jeg logger ind på appen.", "da") == "website_app"
    assert touchpoint("Nice weather.", "en") is None


@pytest.mark.parametrize(
    ("text", "lang", "warns"),
    [
        ("Stay away from this shop, they never refund.", "en", True),
        ("Finger weg von diesem Anbieter!", "de", True),
        ("Køb ikke her, de snyder.", "da", True),
        ("Не покупайте здесь ничего.", "ru", True),
        ("I am unhappy with the delivery time.", "en", False),
        ("Leider war die Lieferung langsam.", "de", False),
    ],
)
def test_active_detractor_phrases(text: str, lang: str, warns: bool) -> None:
    assert is_active_detractor(text, lang) is warns


def test_unknown_language_uses_every_list() -> None:
    assert {h.code for h in find_reasons("Lieferung slow", "und")} == {"delivery"}
