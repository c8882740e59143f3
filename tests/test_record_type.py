"""The record's type (`nps.record.DocumentRecord`) says what docs/CONTRACTS.md says, and a stored document read
back as a record carries no key the type does not name (mypy checks the code against the type; this checks the
type against the contract and the store)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import get_type_hints

from nps.record import DocumentRecord
from store.schema import Document
from store.streams import as_record

CONTRACTS = Path(__file__).resolve().parents[1] / "docs" / "CONTRACTS.md"
# keys a stage adds to the contract's input record: resolve_authors (author_anonymous) and the store
ADDED = {"author_anonymous", "rating_0_10", "content_hash", "extra"}


def contract_keys() -> set[str]:
    section = CONTRACTS.read_text(encoding="utf-8").split("## The document record", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {key for row in rows for key in re.findall(r"`(\w+)`", row.split("|")[1])}


def test_the_record_type_names_every_key_of_the_contract_and_only_those() -> None:
    keys = set(get_type_hints(DocumentRecord))
    assert contract_keys() == keys - ADDED
    assert DocumentRecord.__required_keys__ == {"id", "text"}


def test_a_stored_document_reads_back_with_only_typed_keys() -> None:
    doc = Document(id=7, text="Slow app.", title=None, rating=2.0, rating_scale=5.0, rating_0_10=2.5,
                   language="en", published_at=datetime(2026, 3, 1, tzinfo=UTC), region="BE",
                   content_hash="abc", invited=False,
                   extra={"audience": "employee", "recommends": False, "channel": "Organic", "thumbs_up": 3})
    record = as_record(doc, "trustpilot", "Keytrade", "a1", "Ann", {"review_count": 3}, "aggregator")
    assert set(record) <= set(get_type_hints(DocumentRecord))
    assert record["audience"] == "employee" and record["recommends"] is False and record["channel"] == "Organic"
    assert record["extra"]["thumbs_up"] == 3
