"""Entity mentions: aliases in any language, longest match, competitor attribution, no mention -> dropped."""

from __future__ import annotations

from config.schema import EntityConfig
from nlp.mentions import NO_MENTION, EntityMatcher

ENTITIES = [
    EntityConfig(name="Telekom", aliases={"*": ["Deutsche Telekom", "T-Mobile"]}, competitors=["Vodafone"]),
    EntityConfig(name="MagentaTV", kind="product", parent="Telekom",
                 aliases={"de": ["Magenta TV", "Telekom Magenta TV"]}),
    EntityConfig(name="Vodafone", aliases={"*": ["Vodafone Deutschland"], "ru": ["Водафон"]}),
]


def test_find_in_order_case_insensitive_any_language() -> None:
    matcher = EntityMatcher(ENTITIES)
    assert matcher.find("Von der deutschen TELEKOM zu vodafone gewechselt.") == ["Telekom", "Vodafone"]
    assert matcher.find("Перешёл на Водафон, доволен.") == ["Vodafone"]
    assert matcher.find("Nothing to see here.") == []


def test_longest_match_wins() -> None:
    matcher = EntityMatcher(ENTITIES)
    assert matcher.find("Telekom Magenta TV ruckelt ständig") == ["MagentaTV"]


def test_competitor_mention_is_attributed_to_the_competitor() -> None:
    matcher = EntityMatcher(ENTITIES)
    entity, reason = matcher.attribute("Vodafone hat mein Problem in fünf Minuten gelöst.", default="Telekom")
    assert entity == "Vodafone"
    assert "competitor" in reason


def test_own_mention_stays_and_no_mention_is_dropped_with_a_reason() -> None:
    matcher = EntityMatcher(ENTITIES)
    assert matcher.attribute("T-Mobile is better than Vodafone", default="Telekom")[0] == "Telekom"
    assert matcher.attribute("Great weather today.") == (None, NO_MENTION)
    assert matcher.attribute("Great weather today.", default="Telekom")[0] == "Telekom"


def test_most_mentioned_wins_without_a_default() -> None:
    matcher = EntityMatcher(ENTITIES)
    assert matcher.attribute("Telekom? No. Vodafone, and Vodafone Deutschland again.")[0] == "Vodafone"


def test_a_post_naming_two_brands_counts_for_each_on_its_own_sentences() -> None:
    from config.schema import EntityConfig
    from nlp.mentions import EntityMatcher

    matcher = EntityMatcher([EntityConfig(name="Acme Bank", aliases={"*": ["Acme"]}), EntityConfig(name="Globex")])
    text = ("I moved from Acme to Globex last month. Acme kept blocking my card and nobody answered. "
            "Globex opened my account in ten minutes. Honestly the best decision this year.")
    about = matcher.sentences_about(text)
    assert about == {
        "Acme Bank": "I moved from Acme to Globex last month. Acme kept blocking my card and nobody answered.",
        "Globex": "I moved from Acme to Globex last month. Globex opened my account in ten minutes. "
                  "Honestly the best decision this year.",
    }
    assert matcher.sentences_about("Nothing about banks here.") == {}
