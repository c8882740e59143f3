"""The data model of ../shared/DESIGN.md as SQLAlchemy 2 typed tables.

Every stage writes its own tables and reads the ones before it; natural unique keys make each write an
idempotent upsert, so re-running a stage for a window never duplicates rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from store.clock import UTCDateTime, utcnow


class Base(DeclarativeBase):
    """Declarative base; JSON columns hold evidence and free-form segment keys."""

    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}
    if TYPE_CHECKING:  # each model here maps one Table; SQLAlchemy types it as any FromClause (a select may be mapped)
        __table__: ClassVar[Table]


class Entity(Base):
    """A brand or a product (product -> brand through ``parent_id``)."""

    __tablename__ = "entities"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="brand")  # brand | product
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id"))
    aliases: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {lang: [alias, ...]}
    competitors: Mapped[list[Any]] = mapped_column(default=list)  # names of competitor entities

    parent: Mapped[Entity | None] = relationship(remote_side=[id])


class Source(Base):
    """A configured place reviews come from; crawl settings are kept as given in the config."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(30))  # spider kind: schemaorg | trustpilot | appstore | ...
    category: Mapped[str] = mapped_column(String(20), default="aggregator")  # aggregator|app_store|forum|feed
    base_url: Mapped[str] = mapped_column(String(2000))
    entity_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id"))
    region: Mapped[str | None] = mapped_column(String(50))
    touchpoint: Mapped[str | None] = mapped_column(String(50))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Author(Base):
    """A reviewer as one source knows them, with the profile facts the bot filter reads."""

    __tablename__ = "authors"
    __table_args__ = (UniqueConstraint("source_id", "external_id", name="uq_author_source_ext"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    external_id: Mapped[str] = mapped_column(String(300))
    display_name: Mapped[str | None] = mapped_column(String(300))
    facts: Mapped[dict[str, Any]] = mapped_column(default=dict)  # account_age_days, review_count, location...
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CrawlRun(Base):
    """A flow run (nightly, backfill, crawl, import) with its per-stage counts and errors."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    flow: Mapped[str] = mapped_column(String(50))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20), default="running")  # running|completed|failed
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    errors: Mapped[list[Any]] = mapped_column(default=list)
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Document(Base):
    """One review or post; the native rating is kept beside its 0-10 rescaling."""

    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id", name="uq_document_source_ext"),
        Index("ix_documents_entity_published", "entity_id", "published_at"),
        Index("ix_documents_hash", "content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    # external id from the site, or "url#content-hash" where the site gives none, so the unique key covers
    # both (source, external id) and (source, url, content hash) of the design.
    external_id: Mapped[str] = mapped_column(String(500))
    url: Mapped[str] = mapped_column(String(2000))
    entity_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("authors.id"))
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    raw_text: Mapped[str | None] = mapped_column(Text)
    rating: Mapped[float | None] = mapped_column(Float)  # native value
    rating_scale: Mapped[float | None] = mapped_column(Float)  # native maximum (5, 10, 100)
    rating_0_10: Mapped[float | None] = mapped_column(Float)
    language: Mapped[str | None] = mapped_column(String(10))
    region: Mapped[str | None] = mapped_column(String(50))
    touchpoint: Mapped[str | None] = mapped_column(String(50))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    crawled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    content_hash: Mapped[str] = mapped_column(String(64))  # nps.record.content_hash of the text
    # How the review was collected (nlp.disclosure): True = invited or rewarded by the company, False = on the
    # reviewer's own initiative as the source states it, NULL = unknown (counted as organic).
    invited: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)  # facts a spider saw that have no column
    # The company's own public reply ({"text", "time"}), kept on the document it answers, never a document of its
    # own; its time also as a column, so the reply rate and the time to reply are one query.
    company_reply: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    company_replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    app_version: Mapped[str | None] = mapped_column(String(100))  # app stores: a segment key like region


class Score(Base):
    """A derived 0-10 likelihood-to-recommend with class probabilities, per model version."""

    __tablename__ = "scores"
    __table_args__ = (UniqueConstraint("document_id", "model_version", name="uq_score_doc_model"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    model_version: Mapped[str] = mapped_column(String(100))
    score: Mapped[float] = mapped_column(Float)
    p_promoter: Mapped[float] = mapped_column(Float)
    p_passive: Mapped[float] = mapped_column(Float)
    p_detractor: Mapped[float] = mapped_column(Float)
    confidence: Mapped[float] = mapped_column(Float)
    text_only_score: Mapped[float | None] = mapped_column(Float)
    # The five star-level probabilities (stars 1-5) the class probabilities collapse: the group estimate's
    # class-mix correction runs over them (nps.quantify). NULL for scores stored before revision 0003.
    p_levels: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    active_detractor: Mapped[bool] = mapped_column(Boolean, default=False)
    touchpoint: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Reason(Base):
    """A reason code found in a document, with its polarity and the words that justify it."""

    __tablename__ = "reasons"
    __table_args__ = (
        UniqueConstraint("document_id", "code", "polarity", "evidence", name="uq_reason_doc_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(50))
    polarity: Mapped[str] = mapped_column(String(10))  # positive | negative
    evidence: Mapped[str] = mapped_column(String(500))


class BotVerdict(Base):
    """P(bot) for a document, the decision at the configured threshold, and the features behind it."""

    __tablename__ = "bot_verdicts"
    __table_args__ = (UniqueConstraint("document_id", "model_version", name="uq_bot_doc_model"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    model_version: Mapped[str] = mapped_column(String(100))
    p_bot: Mapped[float] = mapped_column(Float)
    decision: Mapped[bool] = mapped_column(Boolean)
    evidence: Mapped[list[Any]] = mapped_column(default=list)
    # when judged: a re-judged document (new filter version) makes the nightly flow re-estimate its entity
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=utcnow)


class Campaign(Base):
    """A coordinated burst (smear or stuffing) or a genuine incident wave against one entity."""

    __tablename__ = "campaigns"
    __table_args__ = (
        UniqueConstraint("entity_id", "kind", "window_start", name="uq_campaign_entity_kind_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"))
    kind: Mapped[str] = mapped_column(String(20))  # smear | stuffing | incident
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime] = mapped_column(UTCDateTime())
    member_authors: Mapped[list[Any]] = mapped_column(default=list)
    strength: Mapped[float] = mapped_column(Float)
    p_value: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default="open")
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))


class CampaignMember(Base):
    """A document inside a campaign's burst: membership as rows, so "is this review in a campaign that keeps it
    out of the organic NPS" is one indexed SQL condition (store.organic), not a JSON list expanded in Python."""

    __tablename__ = "campaign_members"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True,
                                             index=True)


class DocumentOrganic(Base):
    """Whether a document counts in its entity's organic NPS, and if not, which rule removed it (nps.organic
    ``DOCUMENT_EXCLUSIONS``: bot, campaign, invited, syndicated). Written by the estimate stage from the one
    organic rule; the pages that list organic reviews (reviews, worklist, reasons) read it."""

    __tablename__ = "document_organic"

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    excluded: Mapped[str | None] = mapped_column(String(20), index=True)  # None: organic
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OwedPage(Base):
    """A page of a source that failed after Scrapy's retries: still owed to the source, fetched again on each
    crawl (before the incremental stop is trusted) until it succeeds or the give-up rule (crawl.owed_max_runs,
    crawl.owed_max_days) ends it. A recovered page's row is deleted; a given-up one stays, dated."""

    __tablename__ = "owed_pages"
    __table_args__ = (UniqueConstraint("source_id", "url", name="uq_owed_page"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    callback: Mapped[str] = mapped_column(String(100))  # the spider method that parses it
    attempts: Mapped[int] = mapped_column(Integer, default=1)  # crawls in which it failed
    first_failed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    given_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Quarantine(Base):
    """A record a stage could not process (its error kept), set aside so the rest of its batch and of the run
    go on. Keyed by stage and document; a later run that processes the document deletes the row."""

    __tablename__ = "quarantine"
    __table_args__ = (UniqueConstraint("stage", "document_id", name="uq_quarantine"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stage: Mapped[str] = mapped_column(String(30))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    error: Mapped[str] = mapped_column(Text)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NpsEstimate(Base):
    """An organic NPS for one entity, segment and window, always with its interval and method."""

    __tablename__ = "nps_estimates"
    __table_args__ = (
        UniqueConstraint("entity_id", "segment_key", "window_kind", "window_start", name="uq_estimate"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"))
    segment: Mapped[dict[str, Any]] = mapped_column(default=dict)
    segment_key: Mapped[str] = mapped_column(String(500), default="")  # canonical "k=v;k=v" for uniqueness
    window_kind: Mapped[str] = mapped_column(String(20))  # day | week | month | rolling28 | all
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime] = mapped_column(UTCDateTime())
    n: Mapped[float] = mapped_column(Float)
    nps: Mapped[float] = mapped_column(Float)
    low: Mapped[float] = mapped_column(Float)
    high: Mapped[float] = mapped_column(Float)
    promoters: Mapped[float] = mapped_column(Float, default=0)
    passives: Mapped[float] = mapped_column(Float, default=0)
    detractors: Mapped[float] = mapped_column(Float, default=0)
    excluded: Mapped[dict[str, Any]] = mapped_column(default=dict)
    method: Mapped[str] = mapped_column(String(100))
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SurveyResponse(Base):
    """One imported survey answer (0-10) with free-form segment keys."""

    __tablename__ = "surveys"
    __table_args__ = (UniqueConstraint("answer_key", name="uq_survey_answer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_key: Mapped[str] = mapped_column(String(64))  # nps.survey_import.answer_key: one row per answer
    batch: Mapped[str] = mapped_column(String(200))  # content hash of the file it was first imported from
    row_number: Mapped[int] = mapped_column(Integer)
    entity_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id"))
    score: Mapped[int] = mapped_column(Integer)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    segment: Mapped[dict[str, Any]] = mapped_column(default=dict)
    comment: Mapped[str | None] = mapped_column(Text)


class Alert(Base):
    """An alert for the feed; ``cause_key`` keeps one open alert per cause."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("cause_key", name="uq_alert_cause"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # campaign | nps_drop | detractor_surge | reason_rising
    severity: Mapped[str] = mapped_column(String(10))  # info | warning | critical
    entity_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id"))
    window_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cause_key: Mapped[str] = mapped_column(String(500))
    title: Mapped[str] = mapped_column(String(500), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))


class WebhookOutbox(Base):
    """An alert a webhook has yet to take (``store.outbox``): tried once per run until delivered or given up, so
    an endpoint that is down loses no alert and costs a run one try, not a minute of retries per alert."""

    __tablename__ = "webhook_outbox"
    __table_args__ = (UniqueConstraint("alert_id", "target", name="uq_outbox_alert_target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(64))  # sha256 of the webhook URL: the store never holds its token
    tries: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    given_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApiKey(Base):
    """An API key, stored only as its SHA-256 hash, with a scope (feed < read < write < admin)."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class FlowLock(Base):
    """A named lease so two overlapping runs of a flow cannot work on the same stage at once."""

    __tablename__ = "flow_locks"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WorklistEntry(Base):
    """Where following up a detractor stands (store.worklist ``STATUSES``): who owns it and what was done. A
    detractor with no row is open; the row outlives re-scoring, so a resolved review is not asked about again."""

    __tablename__ = "worklist_entries"

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    owner: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(200))
