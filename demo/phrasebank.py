"""The demo's phrase banks and name lists, and the one function that fills a template with a brand's forms.

Keys of a bank: ``open.C`` / ``close.C`` / ``title.C`` for the four score classes C (P promoter 9-10,
A passive 7-8, D disappointed 4-6, X angry 0-3); ``REASON+`` / ``REASON-`` for each reason code; ``forum.*``,
``blog.title``; ``bot`` / ``bot.title`` (generic fake praise); ``smear`` / ``smear.plug`` / ``smear.title`` (the
campaign's shared phrasing). Placeholders: ``{b}`` the brand, ``{c}`` a competitor, with Russian cases
``{b_gen} {b_dat} {b_ins} {b_prep}`` (and the same for ``c``).
"""

from __future__ import annotations

from functools import cache

from demo.brands import CASES, Brand, brand
from demo.phrases_da import DA
from demo.phrases_de import DE
from demo.phrases_en import EN
from demo.phrases_ru import RU

BANKS: dict[str, dict[str, list[str]]] = {"de": DE, "en": EN, "da": DA, "ru": RU}
LANGUAGES = tuple(BANKS)

REASONS = ("price", "delivery", "service", "quality", "app", "refund", "billing", "staff")
# the reason code (nlp/data/reasons.toml's taxonomy) each bank's reason sentences express; the truth records
# these codes, so a run's reason codes can be checked against it
REASON_CODES = {
    "price": "price",
    "delivery": "delivery",
    "service": "customer_service",
    "quality": "product_quality",
    "app": "usability_app",
    "refund": "billing_refunds",
    "billing": "billing_refunds",
    "staff": "staff",
}
SMEAR_REASON = "trust_fraud"  # what the campaign's "scam, they stole my money" claims are about

FIRST_NAMES: dict[str, list[str]] = {
    "de": ["Anna", "Lukas", "Sabine", "Jonas", "Petra", "Felix", "Claudia", "Stefan", "Miriam", "Tobias", "Heike",
           "Markus", "Lea", "Uwe", "Katrin", "Florian"],
    "en": ["Emma", "James", "Olivia", "Tom", "Sophie", "Daniel", "Chloe", "Ryan", "Grace", "Adam", "Megan", "Chris",
           "Hannah", "Luke", "Amy", "Sam"],
    "da": ["Mette", "Søren", "Camilla", "Rasmus", "Louise", "Mikkel", "Freja", "Jesper", "Ida", "Anders", "Signe",
           "Kasper", "Maja", "Henrik", "Sofie", "Nikolaj"],
    "ru": ["Анна", "Дмитрий", "Елена", "Сергей", "Ольга", "Алексей", "Наталья", "Иван", "Мария", "Андрей", "Татьяна",
           "Павел", "Ирина", "Михаил", "Юлия", "Николай"],
}
LAST_NAMES: dict[str, list[str]] = {
    "de": ["Müller", "Schmidt", "Becker", "Wagner", "Hoffmann", "Schulz", "Koch", "Richter", "Klein", "Wolf"],
    "en": ["Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Walker", "Wright", "Hughes", "Green"],
    "da": ["Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Larsen", "Sørensen", "Rasmussen", "Madsen"],
    "ru": ["Иванов", "Смирнов", "Кузнецов", "Попов", "Соколов", "Лебедев", "Козлов", "Новиков", "Морозов"],
}
# handles are written in Latin script everywhere, as most forums and app stores require
HANDLE_WORDS = ["tech", "fan", "nerd", "shopper", "gadget", "mobil", "nord", "city", "pixel", "lucky", "blue",
                "cat", "wolf", "sun", "rider", "byte", "happy", "old", "real", "dane"]
COUNTRIES: dict[str, list[str]] = {
    "de": ["DE", "DE", "DE", "AT", "CH"],
    "en": ["GB", "GB", "US", "IE", "DE"],
    "da": ["DK", "DK", "DK", "DK", "SE"],
    "ru": ["DE", "LV", "EE", "DK", "IL"],
}


NAME_STYLES = ("name", "latin", "short", "lower")


def fill(template: str, lang: str, b: Brand, c: Brand | None = None, style: str = "name") -> str:
    """Write a template with the brand's (and competitor's) forms for the language, in a naming STYLE.

    ``name`` the brand's name in the language; ``latin`` the Latin name in every case, as Russian writers often
    do with foreign brands (then not declined, so only the nominative is right); ``short`` what customers call
    it for short (where it has such a name); ``lower`` the name typed in lower case.
    """
    return template.format_map(_values(lang, b.name, c.name if c else None, style))


@cache
def _values(lang: str, b_name: str, c_name: str | None, style: str) -> dict[str, str]:
    """The placeholder values for one language and pair of brands (cached: the generator fills ~10^5 templates)."""
    if style not in NAME_STYLES:
        raise ValueError(f"unknown naming style {style!r}; one of {', '.join(NAME_STYLES)}")
    latin = style == "latin"
    values: dict[str, str] = {}
    for key, name in (("b", b_name), ("c", c_name)):
        if name is None:
            continue
        who = brand(name)
        for case in CASES:
            form = who.form("*" if latin else lang, "nom" if latin and lang == "ru" else case, style == "short")
            values[key if case == "nom" else f"{key}_{case}"] = form.lower() if style == "lower" else form
    return values
