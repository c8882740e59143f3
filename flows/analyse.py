"""The one composition of the understanding stages over document records (docs/CONTRACTS.md).

`onps score` and `onps estimate` call these; the nightly flow runs the same stage functions over stored
documents (flows/stages.py), so every command sees the same scores, bot verdicts and campaign flags.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from config.schema import OnpsConfig
from nlp.disclosure import collection_channel
from nps.authors import resolve_authors
from nps.organic import campaign_candidates
from nps.record import AUDIENCES, COUNT_FACTS, MAX_TEXT_CHARS, count_like, parse_iso


def prepare(records: Sequence[dict[str, Any]], cfg: OnpsConfig) -> list[dict[str, Any]]:
    """RECORDS as every rule reads them, the same as stored documents are (store.streams + the pipelines):
    author keys that are no author removed (nps.authors), and how each review was collected (``invited``, with
    ``channel`` saying why; nlp.disclosure). Copies: the input dicts are not changed."""
    out = resolve_authors(records, cfg.author_rules())
    for record in out:
        channel = collection_channel(record)
        record["invited"] = channel.invited
        if channel.evidence:
            record["channel"] = channel.evidence
    return out


def understand(records: Sequence[dict[str, Any]], cfg: OnpsConfig, text_only: bool = False,
               judge_bots: bool = True, with_levels: bool = False,
               advance: Callable[[int], None] | None = None) -> list[dict[str, Any]]:
    """Each record (after `prepare`) with the scorer's fields added (``lang`` becomes the identified language; a
    touchpoint the source declares is kept, the one read from the text fills in where there is none), and the
    bot filter's ``p_bot, bot, bot_evidence`` (the filter reads the derived score where a record has no rating).

    The records are one stream: the bot filter judges each against all the others (an entity's place in time,
    an author's other reviews), so a verdict does not depend on input order or on how a caller batches its
    scoring. ``with_levels`` adds the star-level probabilities ``p_levels`` that group estimates correct the mix
    over (not an `onps score` output field). ``advance(n)`` is told after each scored batch.
    """
    from models.bots import cached_bot_filter
    from nlp.score import cached_scorer

    prepared = prepare(records, cfg)
    scorer = cached_scorer(cfg.models)
    understandings = []
    for start in range(0, len(prepared), cfg.models.batch_size):
        part = prepared[start : start + cfg.models.batch_size]
        understandings += scorer.derive(part, text_only=text_only)
        if advance:
            advance(len(part))
    rows = [{**record, **u.to_json(), "touchpoint": record.get("touchpoint") or u.touchpoint,
             **({"p_levels": u.p_levels} if with_levels else {})}
            for record, u in zip(prepared, understandings, strict=True)]
    if judge_bots:
        verdicts = cached_bot_filter(cfg.models, cfg.thresholds).judge(prepared, understandings)
        for row, verdict in zip(rows, verdicts, strict=True):
            row.update(verdict.to_json())
    return rows


def flag_campaigns(rows: Sequence[dict[str, Any]], cfg: OnpsConfig) -> list[dict[str, Any]]:
    """Set ``campaign`` on every row: True when the campaign detector puts it in a smear or stuffing burst of
    its entity's stream (rows without a date cannot be placed in a burst and stay False)."""
    from models.campaigns import detect_campaigns
    from models.verdicts import FAKE_CAMPAIGN_KINDS

    streams: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        streams[row.get("entity")].append(row)
    members: set[str] = set()
    for stream in streams.values():
        members.update(str(m) for f in detect_campaigns(campaign_candidates(stream), cfg.thresholds)
                       if f.kind in FAKE_CAMPAIGN_KINDS
                       for m in f.member_ids)
    return [{**row, "campaign": str(row["id"]) in members} for row in rows]


TEXT_FIELDS = ("lang", "author", "author_name", "source", "source_family", "entity", "region", "touchpoint", "url",
               "channel", "app_version")


def check_record(record: Any) -> str | None:
    """What is wrong with one input record for scoring, or None; the message says what to fix."""
    if not isinstance(record, dict):
        return "a record must be a JSON object"
    if record.get("id") in (None, "") or isinstance(record.get("id"), (dict, list)):
        return 'a record needs an "id" (string or number)'
    text, title = record.get("text"), record.get("title")
    if not isinstance(text, str) or title is not None and not isinstance(title, str):
        return '"text" (and "title" when given) must be strings'
    if not (text.strip() or (title or "").strip()):
        return '"text" is empty: nothing to score'
    for key in ("rating", "rating_scale"):
        if not count_like(record.get(key)):
            return f'"{key}" must be a non-negative number, got {record.get(key)!r}'
    rating, scale = record.get("rating"), record.get("rating_scale")
    if rating is not None and scale is not None and (scale <= 0 or rating > scale):
        return f'"rating" {rating!r} is outside its "rating_scale" {scale!r}'
    if len(text) + len(title or "") > MAX_TEXT_CHARS:
        return f'"text" has {len(text):,} characters, over the {MAX_TEXT_CHARS:,} a review may have: cut it'
    for key in TEXT_FIELDS:
        if record.get(key) is not None and not isinstance(record[key], str):
            return f'"{key}" must be a string (or null), got {type(record[key]).__name__} {str(record[key])[:40]}'
    if record.get("audience") is not None and record["audience"] not in AUDIENCES:
        return (f'"audience" must be "employee" (an employer review: its groups are an eNPS) or "customer" (the '
                f'default when absent), got {str(record["audience"])[:40]!r}')
    if record.get("recommends") is not None and not isinstance(record["recommends"], bool):
        return (f'"recommends" (would recommend the employer to a friend) must be true, false or null, '
                f'got {record["recommends"]!r}')
    if record.get("invited") is not None and not isinstance(record["invited"], bool):
        return f'"invited" must be true, false or null, got {record["invited"]!r}'
    when = record.get("published_at")
    if when is not None and (not isinstance(when, str) or parse_iso(when) is None):
        return f'"published_at" {str(when)[:40]!r} is not an ISO 8601 time (e.g. 2026-11-02T10:00:00Z)'
    facts = record.get("author_facts")
    if facts is not None and not isinstance(facts, dict):
        return f'"author_facts" must be an object, got {type(facts).__name__}'
    for key in COUNT_FACTS:
        if not count_like((facts or {}).get(key)):
            return f'"author_facts.{key}" must be a non-negative number (or null), got {(facts or {})[key]!r}'
    return None
