"""What the demo generator produces: documents with their authors, forum topics, and the content as a whole.

Each ``Doc`` carries what the demo sites show (text, stars, author, date) and what only the generator knows
(``kind``, ``true_score``, ``reasons``): the second half is the ground truth the pipeline must recover.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from demo.truth import Truth, json_default, load

FORMATS = ("trustpilot", "schemaorg", "appstore", "discourse", "feed")
KINDS = ("genuine", "bot", "smear", "offtopic")
# the iTunes customer-reviews feed shows at most 10 pages of 50, newest first: older reviews cannot be read there
APPSTORE_PAGE_SIZE = 50
APPSTORE_MAX_PAGES = 10


@dataclass
class Author:
    id: str  # the author's id as the format shows it (Trustpilot consumer id, app-store uri id, username)
    name: str
    created_at: datetime  # account creation; Trustpilot ids encode it, as real ObjectIds do
    review_count: int
    country: str
    verified: bool


@dataclass
class Doc:
    id: str  # the external id exactly as the demo serves it
    format: str  # one of FORMATS
    source: str  # the source name in examples/demo/onps.toml
    channel: str  # the brand slug of a per-brand site; "forum" or "blog"
    entity: str | None  # the brand the text is about; None for posts that name no brand
    kind: str  # one of KINDS
    lang: str
    title: str | None
    text: str
    published_at: datetime
    author: Author
    true_score: int | None = None  # 0-10 likelihood to recommend; genuine opinions only
    stars: int | None = None  # 1-5 where the format shows a rating
    reasons: list[str] = field(default_factory=list)  # "delivery-", "price+", ...
    mentions: list[str] = field(default_factory=list)  # brands named in the text
    topic_id: int | None = None
    post_number: int | None = None
    incident: bool = False  # one of the genuine complaints of the planted outage
    copy_of: str | None = None  # the same review posted again on another site by its author (counts once)
    reply: str | None = None  # the company's public answer (Trustpilot-style pages show it under the review)
    reply_at: datetime | None = None
    invited: bool = False  # the company asked for this review (served as Trustpilot's BusinessGeneratedLink)


@dataclass
class Topic:
    id: int
    title: str
    slug: str
    lang: str
    created_at: datetime
    last_posted_at: datetime


@dataclass
class DemoContent:
    seed: int
    scale: float
    reference: datetime
    docs: list[Doc]
    topics: list[Topic]
    truth: Truth

    def save(self, folder: str | Path) -> Path:
        """Write ``content.jsonl`` (one document a line), ``topics.json`` and ``truth.json`` into FOLDER."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        with (out / "content.jsonl").open("w", encoding="utf-8") as fh:
            for doc in self.docs:
                fh.write(json.dumps(asdict(doc), default=json_default, ensure_ascii=False) + "\n")
        meta = {"seed": self.seed, "scale": self.scale, "reference": self.reference.isoformat(),
                "topics": [asdict(t) for t in self.topics]}
        (out / "topics.json").write_text(json.dumps(meta, default=json_default, ensure_ascii=False), encoding="utf-8")
        self.truth.save(out / "truth.json")
        return out


def load_content(folder: str | Path) -> DemoContent:
    """Read what ``DemoContent.save`` wrote (so ``onps demo serve`` can serve a generated folder)."""
    src = Path(folder)
    if not (src / "content.jsonl").exists():
        raise FileNotFoundError(f"{src} holds no demo content; run `onps demo generate --out {src}` first")
    docs = []
    with (src / "content.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            raw = json.loads(line)
            who = raw["author"]
            raw["author"] = Author(**{**who, "created_at": datetime.fromisoformat(who["created_at"])})
            raw["published_at"] = datetime.fromisoformat(raw["published_at"])
            raw["reply_at"] = raw["reply_at"] and datetime.fromisoformat(raw["reply_at"])
            docs.append(Doc(**raw))
    meta = json.loads((src / "topics.json").read_text(encoding="utf-8"))
    topics = [Topic(**{**t, "created_at": datetime.fromisoformat(t["created_at"]),
                       "last_posted_at": datetime.fromisoformat(t["last_posted_at"])}) for t in meta["topics"]]
    return DemoContent(meta["seed"], meta["scale"], datetime.fromisoformat(meta["reference"]), docs, topics,
                       load(src / "truth.json"))
