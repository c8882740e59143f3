"""`onps demo run` (what `make run` runs): the nightly flow end to end on the bundled demo, checked against truth.

It serves the generated demo sites on 127.0.0.1, points the demo config at them (SQLite under var/demo/, one
database per seed and scale, so a second run shows the incremental, idempotent path), runs the nightly flow,
prints the run report, and then what only a demo can show: each brand's organic NPS with its interval beside
the true NPS the generator planted, whether the planted smear campaign was found, and how the bot verdicts
compare with the planted bots. A stage that failed says so; nothing is filled in.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text
from sqlalchemy import select

from flows import exitcodes
from nps.organic import segment_key
from store.engine import session_scope
from store.organic import members_of
from store.schema import BotVerdict, Campaign, Document, DocumentOrganic, Entity, NpsEstimate, Score

VAR = Path("var") / "demo"


@dataclass
class BrandResult:
    name: str
    true_nps: float
    star_nps_all: float | None
    organic: tuple[float, float, float, float] | None  # nps, low, high, n; None: no estimate stored
    true_invited: float | None = None  # the invited reviews' true NPS (kept out of true_nps)
    invited: tuple[float, float, float, float] | None = None  # their stored estimate (segment channel=invited)
    anonymous: int = 0  # genuine reviewers under a placeholder name, each a voice of their own


@dataclass
class DemoCheck:
    """What the run recovered next to the demo's truth (None where the stage that finds it stored nothing)."""

    brands: list[BrandResult]
    campaign_entity: str
    campaign_true: int
    campaign_found: list[dict[str, Any]] | None  # smear findings against the target
    campaign_recall: float | None  # share of the planted smear reviews inside the findings
    bots_true: int
    bots_judged: int | None
    bots_flagged: int | None
    bots_caught: int | None
    bots_out: int | None  # planted bots kept out of the organic NPS by a bot verdict or a fake campaign
    notes: list[str] = field(default_factory=list)


def check_against_truth(db_url: str, truth: Any) -> DemoCheck:
    """Read the store after a run and set each recovered figure beside the truth (pure reading, no scoring)."""
    with session_scope(db_url) as session:
        ext = dict(session.execute(select(Document.id, Document.external_id)).all())
        by_ext = {v: k for k, v in ext.items()}
        brands = []
        invited_key = segment_key({"channel": "invited"})
        for name, b in sorted(truth.brands.items()):
            found = {row.segment_key: (row.nps, row.low, row.high, row.n) for row in session.execute(
                select(NpsEstimate).join(Entity, Entity.id == NpsEstimate.entity_id)
                .where(Entity.name == name, NpsEstimate.segment_key.in_(("", invited_key)),
                       NpsEstimate.window_kind == "all")
            ).scalars()}
            brands.append(BrandResult(name, b.true_nps, b.star_nps_all, found.get(""), b.invited_nps,
                                      found.get(invited_key), b.n_anonymous))
        camp = truth.campaign
        scored = session.execute(select(Score.id).limit(1)).first() is not None
        found_rows = session.execute(
            select(Campaign).join(Entity, Entity.id == Campaign.entity_id)
            .where(Entity.name == camp.entity, Campaign.kind == "smear")
        ).scalars().all()
        planted = {by_ext[m] for m in camp.member_ids if m in by_ext}
        members = members_of(session, [c.id for c in found_rows])
        caught = {m for c in found_rows for m in members[c.id]} & planted
        has_campaign_stage = bool(found_rows) or session.execute(select(Campaign.id).limit(1)).first() is not None
        latest = session.scalar(select(BotVerdict.model_version).order_by(BotVerdict.id.desc()).limit(1))
        verdicts = session.execute(select(BotVerdict.document_id, BotVerdict.decision)
                                   .where(BotVerdict.model_version == latest)).all()
        bots = {by_ext[b] for b in truth.bot_ids if b in by_ext}
        flagged = {doc for doc, decision in verdicts if decision}
        # kept out by the one organic rule, as the estimate stage applied it (store.organic)
        kept_out = set(session.scalars(select(DocumentOrganic.document_id)
                                       .where(DocumentOrganic.excluded.in_(("bot", "campaign")))))
    findings = [{"window_start": c.window_start, "window_end": c.window_end, "members": len(members[c.id]),
                 "strength": c.strength} for c in found_rows]
    return DemoCheck(
        brands=brands,
        campaign_entity=camp.entity,
        campaign_true=len(planted),
        campaign_found=findings if (findings or has_campaign_stage or scored) else None,
        campaign_recall=len(caught) / len(planted) if planted and found_rows else (0.0 if scored else None),
        bots_true=len(bots),
        bots_judged=len(verdicts) if verdicts else None,
        bots_flagged=len(flagged) if verdicts else None,
        bots_caught=len(flagged & bots) if verdicts else None,
        bots_out=len(kept_out & bots) if verdicts else None,
    )


def estimate_cells(estimate: tuple[float, float, float, float], true: float | None) -> tuple[Any, ...]:
    """NPS, interval, n and whether the TRUE value lies inside, as table cells."""
    nps, low, high, n = estimate
    inside = true is not None and low <= true <= high
    return (f"{nps:+.1f}", f"[{low:+.1f}, {high:+.1f}]", f"{n:.0f}",
            Text("yes" if inside else "no", "green" if inside else "red"))


def render_check(check: DemoCheck, stages: dict[str, Any]) -> Group:
    """The demo's verdict: recovered vs true, with 'stage failed' where a stage failed."""

    def missing(stage: str) -> str | None:
        """Why a stage has nothing to show: it failed in this run (its error is in the report)."""
        entry = stages.get(stage)
        if entry is None or entry["status"] != "failed":
            return None
        return f"stage {entry['status']} ({stage})"

    table = Table(title="organic NPS vs the demo's truth (all time)", title_justify="left", show_edge=False)
    for column in ("brand", "true NPS", "organic NPS", "95% interval", "n", "truth inside", "naive star NPS"):
        table.add_column(column, justify="left" if column == "brand" else "right")
    for b in check.brands:
        star = "-" if b.star_nps_all is None else f"{b.star_nps_all:+.1f}"
        if b.organic is None:
            note = missing("estimate") or missing("score") or "no estimate stored"
            table.add_row(b.name, f"{b.true_nps:+.1f}", Text(note, "yellow"), "-", "-", "-", star)
            continue
        table.add_row(b.name, f"{b.true_nps:+.1f}", *estimate_cells(b.organic, b.true_nps), star)
    parts: list[Any] = [table]
    invited = Table(title="invited reviews, reported apart (never in the organic NPS)", title_justify="left",
                    show_edge=False)
    for column in ("brand", "true invited NPS", "invited NPS", "95% interval", "n", "truth inside",
                   "anonymous reviewers"):
        invited.add_column(column, justify="left" if column == "brand" else "right")
    for b in check.brands:
        true = "-" if b.true_invited is None else f"{b.true_invited:+.1f}"
        if b.invited is None:
            invited.add_row(b.name, true, Text("no invited estimate stored", "yellow"), "-", "-", "-",
                            str(b.anonymous))
            continue
        invited.add_row(b.name, true, *estimate_cells(b.invited, b.true_invited), str(b.anonymous))
    parts.append(invited)
    why = missing("campaigns") or missing("score")
    if why or check.campaign_found is None:
        parts.append(Text(f"planted smear campaign against {check.campaign_entity} "
                          f"({check.campaign_true} reviews crawled): {why or 'not evaluated'}", "yellow"))
    elif check.campaign_found:
        windows = ", ".join(f"{f['window_start']:%Y-%m-%d} to {f['window_end']:%Y-%m-%d} ({f['members']} members)"
                            for f in check.campaign_found)
        parts.append(Text(f"planted smear campaign against {check.campaign_entity}: DETECTED, {windows}; "
                          f"{check.campaign_recall:.0%} of its {check.campaign_true} crawled reviews caught", "green"))
    else:
        parts.append(Text(f"planted smear campaign against {check.campaign_entity} ({check.campaign_true} "
                          "reviews crawled): NOT detected", "red"))
    why = missing("bots") or missing("score")
    if why or check.bots_judged is None or check.bots_caught is None:  # all None together: no verdicts
        parts.append(Text(f"planted bots ({check.bots_true} crawled): {why or 'no verdicts stored'}", "yellow"))
    else:
        precision = check.bots_caught / check.bots_flagged if check.bots_flagged else 0.0
        recall = check.bots_caught / check.bots_true if check.bots_true else 0.0
        parts.append(Text(f"bots excluded: {check.bots_flagged} of {check.bots_judged} documents flagged; "
                          f"{check.bots_caught} of the {check.bots_true} planted bots caught (precision "
                          f"{precision:.0%}, recall {recall:.0%}); with the campaign detector, "
                          f"{check.bots_out} of the {check.bots_true} planted bots are kept out of the organic NPS"))
    return Group(*parts)


def run_demo(seed: int = 7, scale: float = 1.0, port: int = 8765, db_url: str | None = None,
             dask_workers: int = 0, console: Console | None = None) -> int:
    """Serve, run the nightly flow, print report and truth check; return the exit code for `onps demo run`."""
    from flows.orchestrator import configure

    configure()
    from demo.config import DEFAULT_BASE_URL, DEMO_TOML, demo_config
    from demo.generate import digest, generate
    from demo.server import serving
    from flows.nightly import run_nightly
    from flows.report import load_run, print_run

    console = console or (Console() if sys.stdout.isatty() else Console(width=120))  # logs: keep tables whole
    err = Console(stderr=True)
    with err.status(f"generating the demo (seed {seed}, scale {scale:g})"):
        content = generate(seed=seed, scale=scale)
    # one database per generated content: a re-run is incremental, a changed generator starts afresh
    db_url = db_url or f"sqlite:///{VAR / f'seed{seed}-scale{scale:g}-{digest(content)[:8]}.db'}"
    with ExitStack() as stack:
        try:
            base_url = stack.enter_context(serving(content, port))
        except OSError as exc:  # e.g. a `onps demo serve` already on 8765: the config follows whatever port we get
            err.print(f"[yellow]127.0.0.1:{port} is not free ({exc.strerror}); "
                      "serving the demo on a free port instead[/yellow]")
            base_url = stack.enter_context(serving(content, 0))
        demo_config(base_url)  # validates the demo config as moved to this server
        # the flow reads its config from a file, as a scheduled run would: the demo's, moved to this server
        config_path = VAR / f"onps-seed{seed}-scale{scale:g}.toml"
        config_path.parent.mkdir(parents=True, exist_ok=True)
        config_path.write_text(DEMO_TOML.read_text(encoding="utf-8").replace(DEFAULT_BASE_URL, base_url),
                               encoding="utf-8")
        err.print(f"demo sites on {base_url}/ ({len(content.docs)} documents); store {db_url}")
        run_id = run_nightly(str(config_path), db_url, crawl=True, dask_workers=dask_workers,
                             progress=err.is_terminal)
    run = load_run(db_url, run_id)
    print_run(console, run)
    console.print(render_check(check_against_truth(db_url, content.truth), run["report"].get("stages", {})))
    return exitcodes.OK if run["status"] == "completed" else exitcodes.RUN_FAILED
