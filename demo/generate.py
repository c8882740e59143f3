"""A seeded generator of reviews and forum posts about the demo brands, with the ground truth they imply.

Every genuine opinion starts from a sampled true 0-10 likelihood to recommend; its text is composed from the
phrase banks so that its sentiment matches that score (class-specific openers and closers, reasons whose
polarity follows the class) and its stars are drawn from the score with noise, since stars measure satisfaction
and not recommendation. Beside the genuine voices the generator plants what the pipeline must filter: bursts of
near-duplicate generic praise from one-review accounts (bots), one smear campaign (a burst of fake one-star
reviews from new accounts with shared phrasing) and, as a decoy, one genuine outage (real customers complaining
at once). Everything is a function of the seed: the same seed gives the same content and truth.
"""

from __future__ import annotations

import gc
import hashlib
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate

from demo.brands import BRANDS, INCIDENT_BRAND, SMEAR_TARGET, STUFFED_BRAND, Brand, brand
from demo.model import APPSTORE_MAX_PAGES, APPSTORE_PAGE_SIZE, Author, DemoContent, Doc, Topic
from demo.phrasebank import (
    BANKS,
    COUNTRIES,
    FIRST_NAMES,
    HANDLE_WORDS,
    LAST_NAMES,
    REASON_CODES,
    SMEAR_REASON,
    fill,
)
from demo.truth import from_docs
from nps.classes import nps_class

REFERENCE_DATE = datetime(2026, 11, 15, 23, 0, tzinfo=UTC)  # fixed, so a seed always gives the same dates
WEEKS = 12

# volumes at scale 1 (about 1,500 documents: a demo the whole pipeline runs through in a minute)
GENUINE_PER_BRAND = {"trustpilot": 150, "schemaorg": 80, "appstore": 90}
BOT_SHARE = {b.name: 0.2 if b.name == STUFFED_BRAND else 0.07 for b in BRANDS}  # of its genuine reviews
BOT_BURST = (4, 12)  # accounts per burst
BOT_BURST_HOURS = 3.0
SMEAR_SIZE = 40
SMEAR_START_DAYS_BEFORE = 20  # the campaign starts this many days before the reference date ...
SMEAR_HOURS = 30.0  # ... and lasts this long
SMEAR_LANGS = {"de": 0.6, "en": 0.4}
SMEAR_FORMATS = {"trustpilot": 0.7, "appstore": 0.3}
INCIDENT_SIZE = 25
INCIDENT_START_DAYS_BEFORE = 45
INCIDENT_HOURS = 48.0
FORUM_TOPICS = 50
FORUM_BRAND_TOPIC_SHARE = 0.75
BLOG_POSTS = 24
REPLY_SHARE = 0.4  # of critical (1-3 star) Trustpilot-style reviews that the company answers in public
SYNDICATED_SHARE = 0.04  # of a brand's genuine Trustpilot-style reviews, posted again on its schema.org page
# reviews the company asked for after a completed order (Trustpilot's "BusinessGeneratedLink"): real customers,
# but the happy path, so their scores run higher than the brand's organic voices; the organic NPS leaves them out
INVITED_SHARE = 0.35  # of a brand's Trustpilot-style reviews, beside the organic ones
INVITED_UPLIFT = 2  # points added to an invited customer's drawn score (capped at 10)
# schema.org shops that let people review without an account show every such reviewer under one placeholder
# name; each is a different person and a voice of their own
ANONYMOUS_SHARE = 0.25  # of a brand's genuine schema.org reviews
ANONYMOUS_NAME = {"en": "Anonymous", "de": "Anonym", "da": "Anonym", "ru": "Аноним", "fr": "Anonyme",
                  "es": "Anónimo"}

# people write in the day and evening more than at night (relative weights per hour, UTC)
HOUR_CUM_WEIGHTS = list(accumulate([1, 1, 1, 1, 1, 2, 3, 5, 6, 6, 6, 6, 7, 6, 6, 6, 6, 7, 8, 9, 9, 7, 4, 2]))

FORUM_SOURCE = "demo-forum"
BLOG_SOURCE = "demo-blog"


def source_name(fmt: str, b: Brand | None = None) -> str:
    """The source name of a format's site in examples/demo/onps.toml (one per brand for review sites)."""
    if fmt == "discourse":
        return FORUM_SOURCE
    if fmt == "feed":
        return BLOG_SOURCE
    if b is None:
        raise ValueError(f"a {fmt} source belongs to a brand")
    return f"{b.slug}-{fmt}"


def score_class(score: int) -> str:
    """The phrase-bank class of a true score: the NPS class, with detractors split into disappointed/angry."""
    cls = nps_class(score)
    if cls == "promoter":
        return "P"
    if cls == "passive":
        return "A"
    return "D" if score >= 4 else "X"


def stars_for(score: int, rng: random.Random) -> int:
    """Stars drawn from the true score with noise: about 1 + 0.4 * score, so 9-10 mostly give 5, 7-8 give 4."""
    return max(1, min(5, round(1 + 0.4 * score + rng.gauss(0, 0.55))))


@dataclass
class _Draft:
    """A document before its id is known (ids are given in date order once everything is drawn)."""

    fmt: str
    source: str
    channel: str
    entity: str | None
    kind: str
    lang: str
    title: str | None
    text: str
    at: datetime
    author: Author
    true_score: int | None = None
    stars: int | None = None
    reasons: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    topic: int | None = None
    incident: bool = False
    copy_of: _Draft | None = None
    reply: str | None = None
    reply_at: datetime | None = None
    invited: bool = False


class _Writer:
    """Draws authors, dates and texts from one random stream (so the order of calls fixes the content)."""

    def __init__(self, rng: random.Random, reference: datetime) -> None:
        self.rng = rng
        self.reference = reference
        self.start = reference - timedelta(weeks=WEEKS)
        self.handles: set[str] = set()
        self._langs = {b.name: (list(b.languages), list(accumulate(b.languages.values()))) for b in BRANDS}
        self._scores = {b.name: list(accumulate(b.score_weights)) for b in BRANDS}

    # -- small draws ------------------------------------------------------------------------------------------
    def pick(self, weights: dict[str, float]) -> str:
        keys = list(weights)
        return self.rng.choices(keys, weights=[weights[k] for k in keys])[0]

    def language(self, b: Brand) -> str:
        return self.rng.choices(self._langs[b.name][0], cum_weights=self._langs[b.name][1])[0]

    def true_score(self, b: Brand) -> int:
        """A genuine customer's answer to "how likely are you to recommend ...", from the brand's distribution."""
        return self.rng.choices(range(11), cum_weights=self._scores[b.name])[0]

    def moment(self) -> datetime:
        """A time in the 12 weeks, by day uniformly, by hour as people write (evenings more than nights)."""
        midnight = self.start.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        while True:
            day = self.rng.randrange(WEEKS * 7)
            hour = self.rng.choices(range(24), cum_weights=HOUR_CUM_WEIGHTS)[0]
            at = midnight + timedelta(days=day, hours=hour, minutes=self.rng.randrange(60),
                                      seconds=self.rng.randrange(60))
            if at <= self.reference:  # the last day ends at the reference time
                return at

    def author(self, lang: str, at: datetime, style: str, fresh: bool = False) -> Author:
        """An author as a format shows them; ``fresh`` makes the new one-review account fakes use."""
        first = self.rng.choice(FIRST_NAMES[lang])
        last = self.rng.choice(LAST_NAMES[lang])
        if style == "handle":
            name = self._handle(first)
        elif self.rng.random() < 0.5:
            name = f"{first} {last[0]}."
        else:
            name = f"{first} {last}"
        if fresh:
            created = at - timedelta(hours=self.rng.uniform(1, 72))
            count, verified = (1 if self.rng.random() < 0.9 else 2), False
        else:
            created = at - timedelta(days=self.rng.uniform(20, 6 * 365))
            count = 1 if self.rng.random() < 0.3 else 1 + int(self.rng.expovariate(1 / 6))
            verified = self.rng.random() < 0.35
        return Author(id="", name=name, created_at=created, review_count=count,
                      country=self.rng.choice(COUNTRIES[lang]), verified=verified)

    def _handle(self, first: str) -> str:
        latin = first if first.isascii() else self.rng.choice(HANDLE_WORDS)
        while True:
            form = self.rng.randrange(3)
            if form == 0:
                handle = f"{latin.lower()}{self.rng.randrange(10, 99)}"
            elif form == 1:
                handle = f"{self.rng.choice(HANDLE_WORDS)}_{latin.lower()}"
            else:
                handle = f"{self.rng.choice(HANDLE_WORDS)}{self.rng.choice(HANDLE_WORDS)}{self.rng.randrange(100)}"
            handle = handle.replace("ø", "o").replace("æ", "ae").replace("å", "a")
            if handle not in self.handles:
                self.handles.add(handle)
                return handle

    # -- texts ------------------------------------------------------------------------------------------------
    def opinion(self, b: Brand, lang: str, score: int, *, forum: bool = False, long: bool = False,
                competitor: Brand | None = None, reasons: tuple[str, ...] = ()) -> tuple[str, str, tuple[str, ...]]:
        """(title, text, reasons) whose sentiment matches the true score."""
        bank, rng = BANKS[lang], self.rng
        cls = score_class(score)
        style = self.name_style(lang, forum)
        # some genuine customers write only "great, recommended": short generic praise is not proof of a bot
        chosen = list(reasons) or self.reasons(b, 3 if long else rng.choice((0, 1, 1, 2, 2, 2, 2, 3, 3, 3)))
        polarity = self._polarities(cls, len(chosen))
        keys = [f"{topic}{sign}" for topic, sign in zip(chosen, polarity, strict=True)]
        parts: list[str] = []
        if forum:
            parts.append(rng.choice(bank["forum.intro"]))
            if competitor is not None:
                parts.append(rng.choice(bank["forum.compare"]))
        if not keys or rng.random() < (0.3 if forum else 0.75):  # a text without reasons still says how it felt
            parts.append(rng.choice(bank[f"open.{cls}"]))
        parts.extend(rng.choice(bank[key]) for key in keys)
        if not keys or rng.random() < (0.75 if cls in "PX" else 0.55):
            parts.append(rng.choice(bank[f"close.{cls}"]))
        text = " ".join(fill(p, lang, b, competitor, style) for p in parts)
        title = fill(rng.choice(bank[f"title.{cls}"]), lang, b, competitor, style)
        coded = tuple(dict.fromkeys(f"{REASON_CODES[t]}{sign}" for t, sign in zip(chosen, polarity, strict=True)))
        return title, self._roughen(text, cls), coded

    def name_style(self, lang: str, forum: bool) -> str:
        """How a writer names the brand: Russian writers often keep the Latin name; forum posters abbreviate
        and do not bother with capitals (the entity matcher must know every alias, case-insensitively)."""
        roll = self.rng.random()
        if lang == "ru" and roll < 0.25:
            return "latin"
        if forum and roll > 0.7:
            return "short"
        if forum and lang != "ru" and roll < 0.1:
            return "lower"
        return "name"

    def reasons(self, b: Brand, k: int) -> list[str]:
        pool = dict(b.reason_weights)
        chosen = []
        for _ in range(min(k, len(pool))):
            code = self.pick(pool)
            chosen.append(code)
            del pool[code]
        return chosen

    def _polarities(self, cls: str, k: int) -> list[str]:
        rng = self.rng
        if k == 0:
            return []
        if cls == "P":
            signs = ["+"] * k
            if k > 1 and rng.random() < 0.15:
                signs[-1] = "-"  # "only downside: ..."
        elif cls == "A":
            signs = ["+"] * k
            signs[-1 if k == 1 else 1] = "-" if k > 1 or rng.random() < 0.5 else "+"  # praise with one complaint
        elif cls == "D":
            signs = ["-"] * k
            if k > 1 and rng.random() < 0.35:
                signs[-1] = "+"  # "the staff were nice, but ..." (the first reason stays the complaint)
        else:
            signs = ["-"] * k
        return signs

    def _roughen(self, text: str, cls: str) -> str:
        """People type carelessly: lower-case starts, missing full stops, doubled exclamation marks in anger."""
        rng = self.rng
        if rng.random() < 0.1:
            text = text[0].lower() + text[1:]
        if cls == "X" and rng.random() < 0.3:
            text = text.replace("!", "!!").replace(".", "!", 1)
        if text.endswith(".") and rng.random() < 0.08:
            text = text[:-1]
        return text

    def mutate(self, text: str) -> str:
        """A near-duplicate: what a bot operator changes so that copies do not match exactly."""
        rng = self.rng
        choice = rng.randrange(6)
        if choice == 0:
            return text.replace("!", "!!", 1)
        if choice == 1:
            return text + rng.choice((" :)", " 👍", " ★★★★★", " !!"))
        if choice == 2:
            return re.sub(r"\.\s", "! ", text, count=1)
        if choice == 3:
            return text.upper() if rng.random() < 0.2 else text.lower()
        if choice == 4:
            return re.sub(r"\s+", "  ", text, count=1)
        return text


def generate(seed: int = 7, scale: float = 1.0, reference: datetime = REFERENCE_DATE) -> DemoContent:
    """The demo content for SEED at SCALE (1 = about 1,500 documents), and its ground truth."""
    if scale <= 0:
        raise ValueError(f"--scale must be positive, got {scale}")
    was_enabled = gc.isenabled()
    gc.disable()  # 10^5 new objects and no cycles: the collector's full passes would cost a quarter of the time
    try:
        return _generate(seed, scale, reference)
    finally:
        if was_enabled:
            gc.enable()


def _generate(seed: int, scale: float, reference: datetime) -> DemoContent:
    rng = random.Random(seed)
    w = _Writer(rng, reference)
    drafts: list[_Draft] = []
    for b in BRANDS:
        drafts += _reviews(w, b, scale)
        drafts += _bots(w, b, scale)
    # drawn from a stream of their own, so that adding them left every other document as it was
    real_world = _Writer(random.Random(f"{seed}-real-world"), reference)
    for b in BRANDS:
        drafts += _invited(real_world, b, scale)
    _anonymise(real_world, drafts)
    drafts += _smear(w, brand(SMEAR_TARGET), scale)
    drafts += _incident(w, brand(INCIDENT_BRAND), scale)
    forum_drafts, topics = _forum(w, scale)
    drafts += forum_drafts
    drafts += _blog(w, scale)
    docs = _assign_ids(_replies(w, _fit_appstore(drafts)), rng)
    return DemoContent(seed, scale, reference, docs, topics, from_docs(docs, seed, scale, reference))


def _reviews(w: _Writer, b: Brand, scale: float) -> list[_Draft]:
    out = []
    for fmt, base in GENUINE_PER_BRAND.items():
        n = round(base * b.volume * scale)
        for _ in range(n):
            out.append(_genuine_review(w, b, fmt, w.moment()))
    return out + _syndicated(w, b, [d for d in out if d.fmt == "trustpilot"])


def _syndicated(w: _Writer, b: Brand, originals: list[_Draft]) -> list[_Draft]:
    """Some customers paste their review on a second site: one voice, so the organic NPS must count it once."""
    copies = []
    for d in w.rng.sample(originals, round(len(originals) * SYNDICATED_SHARE)):
        at = min(d.at + timedelta(hours=w.rng.uniform(0.5, 48)), w.reference)
        copies.append(_Draft("schemaorg", source_name("schemaorg", b), b.slug, b.name, "genuine", d.lang, d.title,
                             d.text, at, d.author, d.true_score, d.stars, d.reasons, d.mentions, copy_of=d))
    return copies


def _invited(w: _Writer, b: Brand, scale: float) -> list[_Draft]:
    """Reviews the company invited: genuine customers after a good order, so they score higher (a real bias)."""
    out = []
    for _ in range(round(GENUINE_PER_BRAND["trustpilot"] * b.volume * scale * INVITED_SHARE)):
        d = _genuine_review(w, b, "trustpilot", w.moment(), score=min(10, w.true_score(b) + INVITED_UPLIFT))
        d.invited = True
        out.append(d)
    return out


def _anonymise(w: _Writer, drafts: list[_Draft]) -> None:
    """Give a share of genuine schema.org reviewers the shop's placeholder name (each is still one person)."""
    for d in drafts:
        if (d.fmt == "schemaorg" and d.kind == "genuine" and d.copy_of is None and d.lang in ANONYMOUS_NAME
                and w.rng.random() < ANONYMOUS_SHARE):
            a = d.author
            d.author = Author("", ANONYMOUS_NAME[d.lang], a.created_at, a.review_count, a.country, False)


def _genuine_review(w: _Writer, b: Brand, fmt: str, at: datetime, score: int | None = None,
                    reasons: tuple[str, ...] = (), incident: bool = False) -> _Draft:
    lang = w.language(b)
    true = w.true_score(b) if score is None else score
    title, text, coded = w.opinion(b, lang, true, reasons=reasons)
    style = "handle" if fmt == "appstore" else "name"
    return _Draft(fmt, source_name(fmt, b), b.slug, b.name, "genuine", lang, title, text, at,
                  w.author(lang, at, style), true, stars_for(true, w.rng), coded, (b.name,), incident=incident)


def _bots(w: _Writer, b: Brand, scale: float) -> list[_Draft]:
    """Bursts of generic five-star praise, near-duplicates of one template, from one-review accounts."""
    genuine = sum(round(base * b.volume * scale) for base in GENUINE_PER_BRAND.values())
    left = round(genuine * BOT_SHARE[b.name])
    langs = {lang: share for lang, share in b.languages.items() if share >= 0.1}
    out = []
    while left > 0:
        size = w.rng.randint(*BOT_BURST)
        if left - size < BOT_BURST[0]:
            size = left  # no lone bot: the remainder joins the last burst
        left -= size
        lang = w.pick(langs)
        fmt = w.pick({"trustpilot": 0.6, "schemaorg": 0.2, "appstore": 0.2})
        template = w.rng.choice(BANKS[lang]["bot"])
        start = w.moment()
        for _ in range(size):
            at = min(start + timedelta(hours=w.rng.uniform(0, BOT_BURST_HOURS)), w.reference)
            text = w.mutate(fill(template, lang, b))
            title = fill(w.rng.choice(BANKS[lang]["bot.title"]), lang, b)
            author = w.author(lang, at, "handle" if fmt == "appstore" else "name", fresh=True)
            out.append(_Draft(fmt, source_name(fmt, b), b.slug, b.name, "bot", lang, title, text, at, author,
                              None, 5 if w.rng.random() < 0.9 else 4, (), (b.name,)))
    return out


def _smear(w: _Writer, b: Brand, scale: float) -> list[_Draft]:
    """The planted campaign: fake one-star reviews from new accounts within SMEAR_HOURS, shared phrasing."""
    start = w.reference - timedelta(days=SMEAR_START_DAYS_BEFORE)
    rival = brand(b.competitors[0]) if b.competitors else None
    scripts = {lang: w.rng.sample(BANKS[lang]["smear"], 2) for lang in SMEAR_LANGS}  # the operator's script
    out = []
    for _ in range(max(10, round(SMEAR_SIZE * scale))):
        lang = w.pick(SMEAR_LANGS)
        fmt = w.pick(SMEAR_FORMATS)
        bank = BANKS[lang]
        at = start + timedelta(hours=w.rng.uniform(0, SMEAR_HOURS))
        parts = [w.rng.choice(scripts[lang])]
        mentions = [b.name]
        if rival is not None and w.rng.random() < 0.3:
            parts.append(w.rng.choice(bank["smear.plug"]))
            mentions.append(rival.name)
        text = w.mutate(" ".join(fill(p, lang, b, rival) for p in parts))
        author = w.author(lang, at, "handle" if fmt == "appstore" else "name", fresh=True)
        out.append(_Draft(fmt, source_name(fmt, b), b.slug, b.name, "smear", lang,
                          fill(w.rng.choice(bank["smear.title"]), lang, b), text, at, author, None, 1,
                          (f"{SMEAR_REASON}-",), tuple(mentions)))
    return out


def _incident(w: _Writer, b: Brand, scale: float) -> list[_Draft]:
    """A real outage: established customers, varied words, low scores, all about the app, within two days."""
    start = w.reference - timedelta(days=INCIDENT_START_DAYS_BEFORE)
    out = []
    for _ in range(max(5, round(INCIDENT_SIZE * scale))):
        at = start + timedelta(hours=w.rng.uniform(0, INCIDENT_HOURS))
        fmt = w.pick({"appstore": 0.6, "trustpilot": 0.4})
        score = w.rng.choice((0, 1, 2, 3, 4, 5))
        extra = w.reasons(b, 1)
        reasons = ("app",) + tuple(r for r in extra if r != "app")
        out.append(_genuine_review(w, b, fmt, at, score=score, reasons=reasons, incident=True))
    return out


def _forum(w: _Writer, scale: float) -> tuple[list[_Draft], list[Topic]]:
    """Topics about a brand or about the market in general; replies give opinions, compare, or chat."""
    out: list[_Draft] = []
    topics: list[Topic] = []
    regulars = {lang: [w.author(lang, w.start, "handle") for _ in range(6)] for lang in BANKS}
    for topic_id in range(1, max(3, round(FORUM_TOPICS * scale)) + 1):
        about = w.rng.choice(BRANDS)
        lang = w.language(about)
        created = w.moment() - timedelta(hours=w.rng.uniform(0, 48))
        created = max(created, w.start)
        bank = BANKS[lang]
        posts: list[_Draft] = []
        if w.rng.random() < FORUM_BRAND_TOPIC_SHARE:
            title = fill(w.rng.choice(bank["forum.topic_brand"]), lang, about)
            posts.append(_forum_opinion(w, about, lang, created, topic_id))
        else:
            title = w.rng.choice(bank["forum.topic_general"])
            posts.append(_forum_chat(w, lang, created, topic_id, regulars))
        at = created
        for _ in range(w.rng.randint(1, 6)):
            at = at + timedelta(hours=w.rng.expovariate(1 / 10))
            if at > w.reference:
                break
            roll = w.rng.random()
            if roll < 0.55:
                posts.append(_forum_opinion(w, about, lang, at, topic_id))
            elif roll < 0.7 and about.competitors:
                posts.append(_forum_opinion(w, brand(about.competitors[0]), lang, at, topic_id))
            else:
                posts.append(_forum_chat(w, lang, at, topic_id, regulars))
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or f"topic-{topic_id}"
        topics.append(Topic(topic_id, title, slug, lang, created, posts[-1].at))
        out += posts
    return out, topics


def _forum_opinion(w: _Writer, b: Brand, lang: str, at: datetime, topic: int) -> _Draft:
    score = w.true_score(b)
    rival = brand(b.competitors[0]) if b.competitors and w.rng.random() < 0.3 else None
    _, text, coded = w.opinion(b, lang, score, forum=True, competitor=rival)
    mentions = (b.name,) + ((rival.name,) if rival else ())
    return _Draft("discourse", FORUM_SOURCE, "forum", b.name, "genuine", lang, None, text, at,
                  w.author(lang, at, "handle"), score, None, coded, mentions, topic)


def _forum_chat(w: _Writer, lang: str, at: datetime, topic: int, regulars: dict[str, list[Author]]) -> _Draft:
    """A post that names no brand: thanks, questions, moderation (the mention filter must drop these)."""
    text = " ".join(w.rng.sample(BANKS[lang]["forum.offtopic"], w.rng.randint(1, 2)))
    author = w.rng.choice(regulars[lang])
    return _Draft("discourse", FORUM_SOURCE, "forum", None, "offtopic", lang, None, text, at, author, topic=topic)


def _blog(w: _Writer, scale: float) -> list[_Draft]:
    out = []
    for _ in range(max(3, round(BLOG_POSTS * scale))):
        b = w.rng.choice(BRANDS)
        lang = w.language(b)
        score = w.true_score(b)
        _, text, coded = w.opinion(b, lang, score, forum=True, long=True)  # the intro names the brand
        title = fill(w.rng.choice(BANKS[lang]["blog.title"]), lang, b)
        at = w.moment()
        out.append(_Draft("feed", BLOG_SOURCE, "blog", b.name, "genuine", lang, title, text, at,
                          w.author(lang, at, "name"), score, None, coded, (b.name,)))
    return out


def _fit_appstore(drafts: list[_Draft]) -> list[_Draft]:
    """Move what an app-store feed could not show (older than its newest 500) to the brand's Trustpilot page.

    Otherwise large scales would put truth in the content that no crawler can ever read.
    """
    visible = APPSTORE_PAGE_SIZE * APPSTORE_MAX_PAGES
    for b in BRANDS:
        feed = sorted((d for d in drafts if d.fmt == "appstore" and d.channel == b.slug), key=lambda d: d.at,
                      reverse=True)
        for d in feed[visible:]:
            d.fmt, d.source = "trustpilot", source_name("trustpilot", b)
    return drafts


def _replies(w: _Writer, drafts: list[_Draft]) -> list[_Draft]:
    """The company answers some critical reviews in public: text beside the review that is not the customer's."""
    for d in drafts:
        if d.fmt == "trustpilot" and d.stars is not None and d.stars <= 3 and w.rng.random() < REPLY_SHARE:
            template = w.rng.choice(BANKS[d.lang]["reply"]).replace("{a}", d.author.name.split()[0])
            d.reply = fill(template, d.lang, brand(d.entity or ""))
            d.reply_at = min(d.at + timedelta(hours=w.rng.uniform(2, 120)), w.reference)
    return drafts


def _object_id(at: datetime, rng: random.Random) -> str:
    """A MongoDB-style ObjectId (as Trustpilot uses): 4 bytes of Unix time, then 8 random bytes, in hex."""
    return f"{int(at.timestamp()):08x}{rng.getrandbits(64):016x}"


def _assign_ids(drafts: list[_Draft], rng: random.Random) -> list[Doc]:
    """Give ids in date order, in each format's own style, and make author ids stable per account."""
    drafts.sort(key=lambda d: (d.at, d.source, d.text))
    docs = []
    given: dict[int, str] = {}  # id(draft) -> its document id, for copies (always later than their original)
    app_author: dict[str, str] = {}
    forum_topic_posts: dict[int, int] = {}
    for n, d in enumerate(drafts, start=1):
        a = d.author
        if d.fmt == "trustpilot":
            doc_id = _object_id(d.at, rng)
            author_id = _object_id(a.created_at, rng)
        elif d.fmt == "appstore":
            doc_id = str(9_100_000_000 + n)
            author_id = app_author.setdefault(a.name, f"id{200_000_000 + len(app_author) + 1}")  # as in its uri
        elif d.fmt == "discourse":
            doc_id, author_id = str(n), a.name
        elif d.fmt == "feed":
            doc_id = f"demo-blog-{n}"
            author_id = a.name
        else:
            doc_id = f"{d.channel}-r{n}"
            author_id = a.name
        post_number = None
        if d.topic is not None:
            post_number = forum_topic_posts[d.topic] = forum_topic_posts.get(d.topic, 0) + 1
        author = Author(author_id, a.name, a.created_at, a.review_count, a.country, a.verified)
        docs.append(Doc(doc_id, d.fmt, d.source, d.channel, d.entity, d.kind, d.lang, d.title, d.text, d.at,
                        author, d.true_score, d.stars, list(d.reasons), list(d.mentions), d.topic, post_number,
                        d.incident, given[id(d.copy_of)] if d.copy_of is not None else None, d.reply, d.reply_at,
                        d.invited))
        given[id(d)] = doc_id
    return docs


def digest(content: DemoContent) -> str:
    """A fingerprint of the generated documents, to show that a seed reproduces them exactly."""
    h = hashlib.sha256()
    for d in content.docs:
        h.update(f"{d.id}|{d.source}|{d.kind}|{d.true_score}|{d.stars}|{d.published_at.isoformat()}|{d.text}|"
                 f"{d.invited}|{d.author.name}\n"
                 .encode())
    return h.hexdigest()
