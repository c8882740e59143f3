"""What the models stage hands to the rest of the flow: a bot judgement per document and campaign findings.

Plain dataclasses so that flows, the store and the CLI can serialise them without importing scikit-learn.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

CampaignKind = Literal["smear", "stuffing", "incident"]
# Kinds whose members are fake voices and leave the organic NPS; an "incident" wave is genuine customers.
FAKE_CAMPAIGN_KINDS: tuple[str, ...] = ("smear", "stuffing")


@dataclass(frozen=True)
class BotJudgement:
    """P(bot) for one document, the decision at the configured precision, and the reasons in an analyst's words."""

    p_bot: float
    bot: bool
    evidence: list[str]
    model_version: str

    def to_json(self) -> dict[str, Any]:
        return {"p_bot": round(self.p_bot, 4), "bot": self.bot, "bot_evidence": list(self.evidence)}


@dataclass(frozen=True)
class CampaignFinding:
    """A burst against one entity's own baseline: a fake campaign (smear, stuffing) or a genuine incident wave."""

    kind: CampaignKind
    window_start: datetime
    window_end: datetime
    member_ids: list[str]
    member_authors: list[str]
    strength: float
    p_value: float
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["window_start"] = self.window_start.isoformat()
        out["window_end"] = self.window_end.isoformat()
        return out
