"""The configured entities and sources as rows: ``sync_config`` makes the tables match onps.toml (idempotent
upserts by name) and returns the ids every stage needs to write rows that refer to them; ``registered`` reads
those ids back."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from config.schema import OnpsConfig
from store.schema import Entity, Source
from store.upsert import upsert


@dataclass(frozen=True)
class Registry:
    """Ids by name: ``entities["Acme Bank"] -> 3``, ``sources["acme-trustpilot"] -> 1``."""

    entities: dict[str, int]
    sources: dict[str, int]


def sync_config(session: Session, cfg: OnpsConfig) -> Registry:
    """Upsert every configured entity (aliases, competitors, parent) and source; rows no longer configured are
    kept (documents refer to them). Safe to call at the start of every run."""
    upsert(
        session,
        Entity.__table__,
        [{"name": e.name, "kind": e.kind, "aliases": e.aliases, "competitors": e.competitors}
         for e in cfg.entities],
        key=("name",),
        update=("kind", "aliases", "competitors"),
    )
    entities = {name: id_ for name, id_ in session.execute(select(Entity.name, Entity.id))}
    for e in cfg.entities:
        session.execute(
            update(Entity).where(Entity.id == entities[e.name]).values(parent_id=entities.get(e.parent or ""))
        )
    upsert(
        session,
        Source.__table__,
        [
            {
                "name": s.name,
                "kind": s.kind,
                "category": s.category,
                "base_url": s.url,
                "entity_id": entities.get(s.entity or ""),
                "region": s.region,
                "touchpoint": s.touchpoint,
                "settings": s.model_dump(exclude={"name", "kind", "url", "entity", "region", "touchpoint"}),
            }
            for s in cfg.sources
        ],
        key=("name",),
        update=("kind", "category", "base_url", "entity_id", "region", "touchpoint", "settings"),
    )
    return registered(session)


def registered(session: Session) -> Registry:
    """The ids of the entities and sources stored now (the persist pipeline reads them when its spider opens; the
    crawl registered them with ``sync_config`` before it started)."""
    return Registry(entities={name: id_ for name, id_ in session.execute(select(Entity.name, Entity.id))},
                    sources={name: id_ for name, id_ in session.execute(select(Source.name, Source.id))})
