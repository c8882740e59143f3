"""A seeded harness that plants campaigns of known size, timing, bot share and wording into real streams.

Used by bench/filter.py (recall, precision and delay per size) and by the tests. A planted campaign is a set
of new records: bot members write templated or varied stock text from fresh accounts (one review, days old,
where the stream shows author facts); the rest are paid humans with varied text from established-looking
accounts. Nothing here reads files: streams come in, streams go out.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

Wording = Literal["templated", "varied"]

_NEGATIVE_TEMPLATE = (
    "{a} experience with this {thing}. It stopped working after {n} days and support never answered. "
    "Do not waste your money, avoid this {thing} at all costs. {b}"
)
_POSITIVE_TEMPLATE = (
    "{a} {thing}, works perfectly and arrived fast. Best purchase I have made this year, five stars from me "
    "and my whole family. Highly recommend this {thing} to everyone. {b}"
)
_SLOTS = {
    "negative": (
        ["Terrible", "Awful", "Horrible", "Worst"],
        ["Zero stars.", "Stay away.", "Total scam.", "Never again."],
    ),
    "positive": (["Amazing", "Fantastic", "Excellent", "Great"], ["Love it!", "So happy!", "Must buy!", "Perfect!"]),
}
_NEGATIVE_SENTENCES = [
    "Complete waste of money.",
    "Broke within a week.",
    "Customer service is useless.",
    "Do not buy this.",
    "Very disappointed with the quality.",
    "Worst purchase ever.",
    "It never worked properly.",
    "I want a refund.",
    "Cheap and flimsy.",
    "Not as described at all.",
    "Avoid this company.",
    "Total scam, stay away.",
    "They ignored my emails.",
    "Arrived damaged and late.",
    "Terrible product.",
    "Save yourself the trouble.",
    "The app keeps crashing.",
    "Hidden fees everywhere.",
    "One star is too many.",
    "Nothing but problems from day one.",
]
_POSITIVE_SENTENCES = [
    "Absolutely love it.",
    "Best product on the market.",
    "Highly recommended.",
    "Five stars all the way.",
    "Works like a charm.",
    "Great value for money.",
    "Exceeded my expectations.",
    "Fast delivery, great quality.",
    "I will buy again.",
    "My family loves it.",
    "Perfect in every way.",
    "Outstanding service.",
    "Could not be happier.",
    "A must have.",
    "Amazing quality.",
    "Everyone should get one.",
    "Simply the best.",
    "Top notch.",
    "Worth every penny.",
    "Fantastic experience.",
]


@dataclass(frozen=True)
class PlantedCampaign:
    entity: str
    polarity: str
    size: int
    start: datetime
    days: int
    bot_share: float
    wording: Wording
    member_ids: frozenset[str]

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days)


def _text(rng: random.Random, polarity: str, wording: Wording) -> str:
    if wording == "templated":
        a, b = _SLOTS[polarity]
        template = _NEGATIVE_TEMPLATE if polarity == "negative" else _POSITIVE_TEMPLATE
        return template.format(a=rng.choice(a), b=rng.choice(b), n=rng.randint(2, 9), thing="product")
    pool = _NEGATIVE_SENTENCES if polarity == "negative" else _POSITIVE_SENTENCES
    return " ".join(rng.sample(pool, rng.randint(2, 4)))


def plant(
    stream: Sequence[Mapping[str, Any]],
    entity: str,
    *,
    size: int,
    start: datetime,
    days: int,
    bot_share: float,
    wording: Wording,
    polarity: str,
    seed: int,
    with_facts: bool,
) -> tuple[list[Mapping[str, Any]], PlantedCampaign]:
    """The stream plus `size` planted records (sorted by time), and the description of what was planted."""
    rng = random.Random(seed)
    start = start.astimezone(UTC)
    planted: list[dict[str, Any]] = []
    for k in range(size):
        bot = k < round(size * bot_share)
        moment = start + timedelta(seconds=rng.uniform(0, days * 86400))
        facts: dict[str, Any] = {}
        if with_facts:
            facts = (
                {"review_count": 1, "account_age_days": rng.randint(0, 5)}
                if bot
                else {"review_count": rng.randint(5, 60), "account_age_days": rng.randint(200, 2000)}
            )
        planted.append(
            {
                "id": f"planted-{seed}-{k}",
                "author": f"planted-{seed}-acct-{k}",
                "entity": entity,
                "text": _text(rng, polarity, wording if bot else "varied"),
                "rating": 1.0 if polarity == "negative" else 5.0,
                "rating_scale": 5.0,
                "published_at": moment.isoformat(),
                **({"author_facts": facts} if facts else {}),
            }
        )
    merged = sorted([*stream, *planted], key=lambda r: str(r.get("published_at")))
    campaign = PlantedCampaign(
        entity, polarity, size, start, days, bot_share, wording, frozenset(r["id"] for r in planted)
    )
    return merged, campaign
