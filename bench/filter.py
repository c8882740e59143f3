"""Filtering benchmark: bot/fake classifier and campaign detector on the real data in ../shared/data.

Run: `nice .venv/bin/python bench/filter.py [--parts classification,human_flags,bombing,injection]` (all parts:
about 15-25 min on 2 cores). Writes bench/results/filter.md, replacing only the sections of the parts it ran (each
part's first section names the run's time and model). Uses the packaged artifact
(models/artifacts/bot_filter.joblib); baselines are measured here in the same run.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from rich.progress import track
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config.schema import ModelsConfig, ThresholdsConfig  # noqa: E402
from models import corpora  # noqa: E402
from models.bots import load_bot_filter  # noqa: E402
from models.campaigns import detect_campaigns  # noqa: E402
from models.injection import plant  # noqa: E402
from models.machine_text import MachineTextModel, text_pipeline  # noqa: E402
from models.train import datafiniti_split, training_sets  # noqa: E402
from nps.record import parse_time  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "filter.md"
SIZES = (10, 30, 60, 100)
PER_SIZE = 30
TH = ThresholdsConfig()


def tfidf_lr():
    return make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2), LogisticRegression(max_iter=2000)
    )


def contract_p_bot(records: list[dict]) -> np.ndarray:
    """P(bot) per record from `onps score` run on RECORDS as one JSON-lines file (the public contract)."""
    with tempfile.TemporaryDirectory() as tmp:
        source, out = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        source.write_text("".join(json.dumps(r) + "\n" for r in records))
        onps = str(Path(sys.executable).with_name("onps"))
        subprocess.run([onps, "score", str(source), "-o", str(out)], check=True)
        p_bot = {line["id"]: line["p_bot"] for line in map(json.loads, out.read_text().splitlines())}
    return np.array([p_bot[r["id"]] for r in records])


def within_day_auc(p: np.ndarray, y: np.ndarray, days: np.ndarray) -> float:
    """ROC-AUC inside each day that has both classes, averaged with the day's reviews as weights."""
    total, weight = 0.0, 0
    for day in np.unique(days):
        m = days == day
        if 0 < y[m].sum() < m.sum():
            total += roc_auc_score(y[m], p[m]) * m.sum()
            weight += m.sum()
    return total / weight


def classification(lines: list[str], bot) -> None:
    sets = training_sets()
    (dev, dev_y), (test, test_y) = corpora.salminen("dev"), corpora.salminen("test")
    texts = lambda rows: [r["text"] for r in rows]  # noqa: E731
    base = tfidf_lr().fit(texts(dev), dev_y).predict_proba(texts(test))[:, 1]
    ngrams = text_pipeline().fit(texts(dev), dev_y).predict_proba(texts(test))[:, 1]
    ends = bot.classifier.sentence_ends
    plain = MachineTextModel().fit(texts(dev), dev_y).predict_proba(texts(test))[:, 1]
    own = MachineTextModel(sentence_ends=ends).fit(texts(dev), dev_y).predict_proba(texts(test))[:, 1]
    full = bot.classifier.predict_proba(test)[:, 1]
    lines += [
        "## Salminen subset (GPT-2 generated vs original): train on dev, report on test (n=2,000)",
        "| model | accuracy | F1 | ROC-AUC |",
        "| --- | --- | --- | --- |",
    ]
    for name, p in (
        ("baseline: TF-IDF word 1-2 LR", base),
        ("n-grams alone (hashed word 1-2 + char 1-5, edges), dev only", ngrams),
        ("machine-text stack without sentence ends (tf-idf + naive Bayes n-grams, style), dev only", plain),
        ("machine-text model (the stack + the packaged sentence-end reference), dev only", own),
        ("packaged filter (text noisy-OR behaviour; + human negatives), at 0.5", full),
    ):
        acc, f1, auc = accuracy_score(test_y, p >= 0.5), f1_score(test_y, p >= 0.5), roc_auc_score(test_y, p)
        lines.append(f"| {name} | {acc:.3f} | {f1:.3f} | {auc:.3f} |")
    d = full >= bot.threshold
    lines += [
        f"\nPackaged filter at its threshold {bot.threshold:.3f} (precision {TH.bot_precision} on validation): "
        f"precision {precision_score(test_y, d):.3f}, recall {recall_score(test_y, d):.3f}. "
        "Published: RoBERTa 96.6% (trained on ~32k). Target here 0.95 accuracy.\n"
    ]

    (ytr, ytr_y), (yte, yte_y) = sets["yelp_train"], sets["yelp_test"]

    def behaviour(rows):
        from models.features import FEATURES, batch_features

        X = batch_features(rows)
        cols = [
            FEATURES.index(c)
            for c in ("author_stream_reviews", "rating_deviation", "rating_extremity", "length_words")
        ]
        return np.nan_to_num(X[:, cols])

    bl = LogisticRegression(max_iter=2000).fit(behaviour(ytr), ytr_y).predict_proba(behaviour(yte))[:, 1]
    text_only = tfidf_lr().fit(texts(ytr), ytr_y).predict_proba(texts(yte))[:, 1]
    whole = contract_p_bot(yte)
    d = whole >= bot.threshold
    days = np.array([r["published_at"][:10] for r in yte])
    lines += [
        f"## YelpCHI slice, product-grouped split (train {len(ytr)}, test {len(yte)} reviews, test products unseen)",
        "The packaged filter is evaluated the way a user calls it: the test products written as `onps score` JSON "
        "lines (id, author, entity, rating, rating_scale, published_at, text; no per-user facts) and scored by the "
        "CLI in a subprocess, every behaviour feature computed from that file alone.",
        "",
        "| model | ROC-AUC | within-day ROC-AUC | precision@thr | recall@thr |",
        "| --- | --- | --- | --- | --- |",
        f"| baseline: LR on author's reviews in the input, abs. rating deviation, extremity, length "
        f"| {roc_auc_score(yte_y, bl):.3f} | {within_day_auc(bl, yte_y, days):.3f} | | |",
        f"| baseline: text-only TF-IDF LR | {roc_auc_score(yte_y, text_only):.3f} "
        f"| {within_day_auc(text_only, yte_y, days):.3f} | | |",
        f"| packaged filter, `onps score` on all test products in one file | {roc_auc_score(yte_y, whole):.3f} "
        f"| {within_day_auc(whole, yte_y, days):.3f} | {precision_score(yte_y, d, zero_division=0):.3f} "
        f"| {recall_score(yte_y, d):.3f} |",
        "",
        "Target 0.90 AUC; published graph models on the full YelpCHI: CARE-GNN 0.76-0.81. Caution: in this "
        "3-week slice the filtered share depends on the day (0% on 7 of 24 days, 55-69% on others: the source's "
        "split is ordered), so features that read a review's place in time can learn the slice, not Yelp's "
        "filter. Within-day ROC-AUC (mean over days with both classes, weighted by reviews) removes that part "
        "of it (a product's volume in the slice can still carry it), so it is the nearer guide to products from "
        "other dates.\n",
    ]
    ott, ott_y = corpora.ott()
    folds = StratifiedKFold(5, shuffle=True, random_state=13)
    ours = cross_val_score(MachineTextModel(sentence_ends=ends), texts(ott), ott_y, cv=folds).mean()
    baseline = cross_val_score(tfidf_lr(), texts(ott), ott_y, cv=folds).mean()
    lines += [
        "## Ott deceptive opinion spam, 5-fold CV accuracy (1,600 reviews)",
        f"| machine-text model architecture | {ours:.3f} |",
        "| --- | --- |",
        f"| baseline TF-IDF word 1-2 LR | {baseline:.3f} |",
        "| published (Ott et al., SVM n-grams, positive half) | ~0.90 |",
        "",
    ]


def bombing(lines: list[str], bot) -> None:
    frame = corpora.review_bombing()
    started, t0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.perf_counter()
    streams, n = {}, 0
    for (title, target), group in frame.groupby(["of_title", "bombing_target"]):
        records = [
            {
                "id": str(r.r_id),
                "text": str(r.review),
                "published_at": str(r.r_date),
                "rating_0_10": float(r.rating_0_10),
                "entity": title,
            }
            for r in group.itertuples()
            if isinstance(r.r_date, str)
        ]
        judged = bot.judge(records)
        for r, j in zip(records, judged, strict=True):
            r["p_bot"] = j.p_bot
        streams[(title, target)] = records
        n += len(records)
    elapsed = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    lines += [
        "## Throughput (bot filter over the 142k Metacritic/Rotten Tomatoes reviews, batch = one title's stream)",
        f"{n} reviews in {elapsed:.0f} s: **{n / elapsed:.0f} reviews/s** on 2 shared cores; peak RSS "
        f"{peak / 1024:.0f} MiB (before: {started / 1024:.0f} MiB).\n",
        "## Review bombing (Metacritic / Rotten Tomatoes), detector over every night of each title's stream",
        "| title | bombed | reviews | findings (kind: window, members, p) |",
        "| --- | --- | --- | --- |",
    ]
    for (title, target), records in streams.items():
        found = detect_campaigns(records, TH)
        cells = "; ".join(
            f"{f.kind}: {f.window_start.date()}..{f.window_end.date()}, {len(f.member_ids)}, {f.p_value:.1e}"
            for f in found[:6]
        ) + (f"; ... {len(found)} in all" if len(found) > 6 else "")
        lines.append(f"| {title} | {'yes' if target else 'no'} | {len(records)} | {cells or 'none'} |")
    lines.append("")


def human_flags(lines: list[str], bot) -> None:
    """How often the filter flags reviews of real, unlabelled streams: an upper bound on its false-flag rate
    there (a stream may hold real fakes), with the records as the streams show them and as bare text."""
    streams = corpora.streams()
    _, held = datafiniti_split()
    sets: dict[str, list[dict]] = defaultdict(list)
    for entity, records in streams.items():
        if entity.startswith("datafiniti:") and entity not in held:
            continue  # its other products are human negatives in training (models/train.py)
        sets[entity.split(":")[0] if not entity.startswith("gplay:chat") else "gplay-chat"] += records
    _, controls = corpora.bombing_controls()
    for row in controls.dropna(subset=["review"]).itertuples():
        sets[f"{row.platform.lower()} (held-out unbombed titles)"].append(
            {
                "id": f"control-{int(row.r_id)}",
                "text": str(row.review),
                "entity": str(row.of_title),
                "rating": float(row.score),
                "rating_scale": float(row.scale_max),
                "published_at": str(row.r_date) if isinstance(row.r_date, str) else None,
            }
        )
    lines += [
        "## Flags on real review streams (no labels: an upper bound on false flags)",
        "Share of reviews the packaged filter flags at its threshold, on a seeded 2,000 per set: with the author,"
        " rating and date the stream shows, and as bare text (what `onps score` gets from a text-only line)."
        f" Datafiniti: only the {len(held)} products held out of training (the other half trains the text model);"
        " Metacritic / Rotten Tomatoes: only the unbombed titles held out of training and of the sentence-end"
        " reference. Target below 3% on every set.",
        "| set | reviews | flagged, full records | flagged, bare text |",
        "| --- | --- | --- | --- |",
    ]
    rng = random.Random(5)
    for name, records in sorted(sets.items()):
        sample = rng.sample(records, min(2000, len(records)))
        full = np.mean([j.bot for j in bot.judge(sample)])
        bare = np.mean([j.bot for j in bot.judge([{"id": r["id"], "text": r["text"]} for r in sample])])
        lines.append(f"| {name} | {len(sample):,} | {full:.1%} | {bare:.1%} |")
    lines.append("")


def injection(lines: list[str], bot) -> None:
    streams = corpora.streams()
    for records in track(streams.values(), description="judging real streams"):
        for r, j in zip(records, bot.judge(records), strict=True):
            r["p_bot"] = j.p_bot
    false, months = Counter(), 0.0
    for records in streams.values():
        times = [parse_time(r["published_at"]) for r in records]
        months += max((max(times) - min(times)).days / 30.44, 1.0)
        for f in detect_campaigns(records, TH):
            false[f.kind] += 1
    rng = random.Random(2026)
    eligible = []
    for name, records in streams.items():
        times = [parse_time(r["published_at"]) for r in records]
        if len(records) >= 100 and (max(times) - min(times)).days >= 120:
            eligible.append((name, min(times), max(times)))
    outcomes = defaultdict(list)
    for size in SIZES:
        for k in track(range(PER_SIZE), description=f"planting campaigns of {size}"):
            name, first, last = rng.choice(eligible)
            start = first + timedelta(days=60 + rng.random() * ((last - first).days - 60))
            start = start.replace(hour=0, minute=0, second=0, microsecond=0)
            days, share = rng.choice((1, 2, 3)), rng.choice((0.3, 0.6, 1.0))
            wording, polarity = rng.choice(("templated", "varied")), rng.choice(("negative", "positive"))
            segment = [
                r
                for r in streams[name]
                # the entity's whole past, as the nightly flow reads it: the detector's baseline starts there
                if parse_time(r["published_at"]) <= start + timedelta(days=days + 7)
            ]
            merged, campaign = plant(
                segment,
                name,
                size=size,
                start=start,
                days=days,
                bot_share=share,
                wording=wording,
                polarity=polarity,
                seed=size * 1000 + k,
                with_facts=name.startswith("trustpilot"),
            )
            new = [r for r in merged if r["id"] in campaign.member_ids]
            context = [r for r in segment if abs(parse_time(r["published_at"]) - start) <= timedelta(days=7)]
            for r, j in zip(new + context, bot.judge(new + context), strict=True):
                if r["id"] in campaign.member_ids:
                    r["p_bot"] = j.p_bot
            found = detect_campaigns(merged, TH)
            wanted = "smear" if polarity == "negative" else "stuffing"
            hit = [
                f
                for f in found
                if f.window_start.date() <= campaign.end.date()
                and f.window_end.date() >= start.date()
                and campaign.member_ids & set(f.member_ids)
            ]
            first_night = min((datetime.fromisoformat(f.evidence["first_detected"]).date() for f in hit), default=None)
            in_time = first_night is not None and first_night <= (
                campaign.end - timedelta(seconds=1)
            ).date() + timedelta(days=1)
            campaigns_found = [f for f in found if f.kind in ("smear", "stuffing")]
            outcomes[size].append(
                {
                    "any": in_time,
                    "kind": in_time and any(f.kind == wanted for f in hit),
                    "delay": (first_night - start.date()).days if first_night else None,
                    "true_campaign_findings": sum(f in hit for f in campaigns_found),
                    "campaign_findings": len(campaigns_found),
                    "wording": wording,
                    "share": share,
                    "polarity": polarity,
                }
            )
    lines += [
        f"## Injection harness (seed 2026; {PER_SIZE} campaigns per size planted into real dated streams: "
        "Amazon 5-core, Google Play banks, Datafiniti, Trustpilot; start >= 60 days into the stream; 1-3 days long; "
        "bot share 0.3/0.6/1.0; templated or varied wording; negative or positive; P(bot) from the packaged filter)",
        "| size | recall (any finding, by the night after it ends) | recall as smear/stuffing | templated | varied | "
        "negative (smear) | positive (stuffing) | precision of smear/stuffing findings | median delay (nights) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for size, rows in outcomes.items():
        delays = [r["delay"] for r in rows if r["delay"] is not None]
        found_c = sum(r["campaign_findings"] for r in rows)
        templ = [r["kind"] for r in rows if r["wording"] == "templated"]
        varied = [r["kind"] for r in rows if r["wording"] == "varied"]
        neg = [r["kind"] for r in rows if r["polarity"] == "negative"]
        pos = [r["kind"] for r in rows if r["polarity"] == "positive"]
        lines.append(
            f"| {size} | {np.mean([r['any'] for r in rows]):.2f} | {np.mean([r['kind'] for r in rows]):.2f} | "
            f"{np.mean(templ) if templ else float('nan'):.2f} | {np.mean(varied) if varied else float('nan'):.2f} | "
            f"{np.mean(neg) if neg else float('nan'):.2f} | {np.mean(pos) if pos else float('nan'):.2f} | "
            f"{sum(r['true_campaign_findings'] for r in rows) / found_c if found_c else float('nan'):.2f} | "
            f"{np.median(delays) if delays else float('nan'):.0f} |"
        )
    lines += [
        "",
        f"Untouched streams ({len(streams)} entities, {months:.0f} entity-months): "
        f"{false['smear'] + false['stuffing']} smear/stuffing findings = "
        f"**{100 * (false['smear'] + false['stuffing']) / months:.3f} per 100 entity-months** (target < 1); "
        f"{false['incident']} incident waves. Google Play chat app: 10 days only, below the 14-day history the volume "
        "tests need, so only its share test runs.",
        "",
        "Reading: a planted burst is significant against the entity's baseline (the detector reads the entity's "
        "whole past, as the nightly flow does); it is called a campaign when its members look more suspect than the "
        "entity's usual reviewers (P(bot), near-duplicates across authors, new or one-review accounts) or write more "
        "scripted text (short, unspecific, repeating a whole sentence another author wrote in the last days). "
        "Varied campaigns here draw 2-4 sentences from a bank of 20 per polarity, so they are scripted; a campaign "
        "whose every member paraphrases freely, on a source that shows no author facts, leaves no member evidence "
        "and would still be reported as an incident (negative) or not at all (positive).",
        "",
    ]


PARTS = {"classification": classification, "human_flags": human_flags, "bombing": bombing, "injection": injection}
# the section headings each part writes (prefixes), so a partial run replaces exactly its own sections
SECTIONS = {
    "classification": ("## Salminen", "## YelpCHI", "## Ott"),
    "human_flags": ("## Flags on real review streams",),
    "bombing": ("## Throughput", "## Review bombing"),
    "injection": ("## Injection harness",),
}


def split_sections(text: str) -> tuple[str, list[str]]:
    """A results file as its header (before the first `## `) and its `## ` sections, in order."""
    head, *rest = ("\n" + text).split("\n## ")
    return head.strip("\n"), ["## " + section.strip("\n") for section in rest]


def merge_sections(old: str, header: str, new_sections: list[str], replaced: tuple[str, ...]) -> str:
    """Old results with the sections whose headings start with `replaced` swapped for `new_sections` (in the
    place of the first one replaced, or at the end), under a new header; other parts' sections are kept."""
    _, sections = split_sections(old)
    kept, at = [], None
    for section in sections:
        if section.startswith(replaced):
            at = len(kept) if at is None else at
            continue
        kept.append(section)
    at = len(kept) if at is None else at
    return "\n\n".join([header, *kept[:at], *new_sections, *kept[at:]]) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, of: {', '.join(PARTS)}")
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}: choose from {', '.join(PARTS)}")
    bot = load_bot_filter(ModelsConfig(), TH)
    header = "\n".join(
        [
            "# Filtering benchmark (bench/filter.py)",
            "",
            f"Command: `nice .venv/bin/python bench/filter.py [--parts ...]`; machine: 2-core {platform.machine()}, "
            "24 GiB, no GPU, shared with other jobs. Each part's first section names when it ran and with which model.",
        ]
    )
    for name in parts:
        t, lines = time.perf_counter(), []
        PARTS[name](lines, bot)
        _, sections = split_sections("\n".join(lines))
        sections[0] = sections[0].replace(
            "\n", f"\n_Part `{name}`, run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, model {bot.model_version}._\n\n", 1
        )
        old = OUT.read_text() if OUT.exists() else ""
        OUT.write_text(merge_sections(old, header, sections, SECTIONS[name]))
        print(f"{name}: {time.perf_counter() - t:.0f} s", flush=True)
    print(OUT.read_text())


if __name__ == "__main__":
    main()
