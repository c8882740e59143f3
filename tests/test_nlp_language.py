"""Language identification: clear texts, short texts with and without a hint, mixed and unknown text."""

from __future__ import annotations

import pytest

from nlp.language import identify, identify_many, normalise


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Die Lieferung kam pünktlich und der Kundenservice war sehr freundlich.", "de"),
        ("The delivery arrived on time and the support team was very helpful.", "en"),
        ("Leveringen kom til tiden, og kundeservicen var meget venlig og hjælpsom.", "da"),
        ("Доставка пришла вовремя, а служба поддержки была очень вежливой.", "ru"),
        ("La livraison est arrivée à temps et le service client était très aimable.", "fr"),
        ("El envío llegó a tiempo y el servicio al cliente fue muy amable.", "es"),
        ("De levering kwam op tijd en de klantenservice was erg vriendelijk.", "nl"),
    ],
)
def test_clear_texts(text: str, lang: str) -> None:
    code, confidence = identify(text)
    assert code == lang
    assert confidence >= 0.5


def test_short_text_without_hint_is_undetermined_not_guessed() -> None:
    code, confidence = identify("Super!")
    assert code == "und"
    assert confidence < 0.5


def test_short_text_takes_the_hint() -> None:
    assert identify("Super!", hint="de-DE")[0] == "de"
    assert identify("ok", hint="da")[0] == "da"


def test_clear_text_beats_a_wrong_hint() -> None:
    assert identify("The delivery was fast and everything worked perfectly well.", hint="de")[0] == "en"


def test_mixed_text_is_undetermined_unless_the_hint_is_one_of_its_languages() -> None:
    mixed = "I love this phone, the camera is great. Aber der Akku hält nicht lange, leider gar nicht."
    assert identify(mixed)[0] == "und"
    assert identify(mixed, hint="de")[0] == "de"


def test_no_letters_and_unknown_hints() -> None:
    assert identify("12345 !!!") == ("und", 0.0)
    assert identify("", hint="xx")[0] == "und"
    assert normalise("en_US") == "en" and normalise("") is None


def test_restricted_language_set() -> None:
    assert identify("Очень плохая доставка, никому не советую.", languages=("de", "en"))[0] != "ru"


def test_batch_matches_single_calls() -> None:
    texts = ["Sehr gutes Produkt, gerne wieder.", "Terrible service, never again.", "Super!"]
    hints = [None, None, "fr"]
    assert identify_many(texts, hints) == [identify(t, h) for t, h in zip(texts, hints, strict=True)]
