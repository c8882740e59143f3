"""The demo's three fictional brands: how they are named in each language and how their customers feel.

The names and grammatical forms here are what the generated text writes; ``examples/demo/onps.toml`` lists the
same forms as aliases so the entity matcher can find them (a test keeps the two in step). The score
distributions are the ground truth the demo must recover: they are chosen so the three brands differ clearly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CASES = ("nom", "gen", "dat", "ins", "prep")


@dataclass(frozen=True)
class Brand:
    """One fictional brand and everything the generator needs to write about it."""

    name: str
    slug: str
    domain: str  # the Trustpilot-style page is /review/{domain}
    app_id: int  # the app-store feed id
    schema_type: str  # schema.org type of the review page's subject
    best_rating: int  # the schema.org page's rating scale (5 or 10)
    volume: float  # how many reviews it gets, relative to the others
    competitors: tuple[str, ...]
    languages: dict[str, float]  # share of its customers writing in each language
    score_weights: tuple[float, ...]  # relative frequency of true 0-10 scores among genuine customers
    reason_weights: dict[str, float]  # which reasons its customers write about
    # grammatical forms per language; missing cases fall back to the nominative
    forms: dict[str, dict[str, str]] = field(default_factory=dict)
    # what customers call it for short (forums), in the same layout; empty when they use the full name
    short_forms: dict[str, dict[str, str]] = field(default_factory=dict)

    def form(self, lang: str, case: str = "nom", short: bool = False) -> str:
        table = self.short_forms if short and self.short_forms else self.forms
        by_case = table.get(lang) or table["*"]
        return by_case.get(case) or by_case["nom"]


NORDKAUF = Brand(
    name="Nordkauf",
    slug="nordkauf",
    domain="nordkauf.example",
    app_id=1600000101,
    schema_type="LocalBusiness",
    best_rating=5,
    volume=1.2,
    competitors=("Brisko",),
    languages={"de": 0.55, "en": 0.25, "da": 0.1, "ru": 0.1},
    #               0     1     2     3     4     5     6     7     8     9     10
    score_weights=(2.0, 1.0, 1.5, 1.5, 2.0, 3.5, 4.0, 9.0, 14.0, 18.0, 20.0),
    reason_weights={
        "price": 3,
        "delivery": 4,
        "service": 3,
        "quality": 3,
        "app": 1.5,
        "refund": 2,
        "staff": 1.5,
    },
    forms={
        "*": {"nom": "Nordkauf", "gen": "Nordkaufs"},
        "en": {"nom": "Nordkauf", "gen": "Nordkauf's"},
        "ru": {"nom": "Нордкауф", "gen": "Нордкауфа", "dat": "Нордкауфу", "ins": "Нордкауфом", "prep": "Нордкауфе"},
    },
)

BRISKO = Brand(
    name="Brisko",
    slug="brisko",
    domain="brisko.example",
    app_id=1600000202,
    schema_type="Organization",
    best_rating=5,
    volume=1.0,
    competitors=("Nordkauf",),
    languages={"de": 0.5, "en": 0.3, "da": 0.05, "ru": 0.15},
    #               0     1     2     3     4     5     6     7     8     9     10
    score_weights=(3.0, 3.0, 3.0, 4.0, 5.0, 7.0, 8.0, 12.0, 13.0, 11.0, 12.0),
    reason_weights={
        "price": 4,
        "delivery": 4,
        "service": 3,
        "quality": 2,
        "app": 2,
        "refund": 3,
        "staff": 1,
    },
    forms={
        "*": {"nom": "Brisko", "gen": "Briskos"},
        "en": {"nom": "Brisko", "gen": "Brisko's"},
        # Russian borrows it as an indeclinable noun (like "бюро")
        "ru": {"nom": "Бриско"},
    },
)

KVANT = Brand(
    name="Kvant Mobil",
    slug="kvant-mobil",
    domain="kvantmobil.example",
    app_id=1600000303,
    schema_type="Product",
    best_rating=10,
    volume=0.9,
    competitors=(),
    languages={"da": 0.45, "en": 0.25, "ru": 0.2, "de": 0.1},
    #               0     1     2     3     4     5     6     7     8     9     10
    score_weights=(1.0, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 12.0, 15.0, 15.0, 14.0),
    reason_weights={
        "price": 4,
        "billing": 3,
        "service": 3,
        "quality": 3,
        "app": 3,
        "staff": 1.5,
    },
    forms={
        "*": {"nom": "Kvant Mobil", "gen": "Kvant Mobils"},
        "en": {"nom": "Kvant Mobil", "gen": "Kvant Mobil's"},
        "ru": {"nom": "Квант Мобил", "gen": "Квант Мобила", "dat": "Квант Мобилу", "ins": "Квант Мобилом",
               "prep": "Квант Мобиле"},
    },
    short_forms={
        "*": {"nom": "Kvant"},
        "ru": {"nom": "Квант", "gen": "Кванта", "dat": "Кванту", "ins": "Квантом", "prep": "Кванте"},
    },
)

BRANDS: tuple[Brand, ...] = (NORDKAUF, BRISKO, KVANT)

SMEAR_TARGET = NORDKAUF.name  # the campaign is run against the market leader (by its rival's friends)
INCIDENT_BRAND = KVANT.name  # a genuine outage: many real, angry customers at once (not a campaign)
STUFFED_BRAND = BRISKO.name  # the brand that buys the most fake praise


def brand(name: str) -> Brand:
    for b in BRANDS:
        if b.name == name:
            return b
    raise KeyError(f"no demo brand named {name!r}")


def written_forms(b: Brand) -> dict[str, list[str]]:
    """Every form the generator may write, per language ('*' = de, en, da) -- what the config must list."""
    out: dict[str, list[str]] = {}
    for table in (b.forms, b.short_forms):
        for lang, by_case in table.items():
            out[lang] = list(dict.fromkeys([*out.get(lang, []), *by_case.values()]))
    return out
