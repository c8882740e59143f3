"""Mark the evidence of each reason code inside a review's text, safely escaped for HTML."""

from __future__ import annotations

from markupsafe import Markup, escape


def evidence_spans(text: str, evidence: list[tuple[str, str]]) -> list[tuple[int, int, str]]:
    """(start, end, polarity) of every occurrence of each evidence string, case-insensitive, overlaps merged
    (the first polarity found wins) so the marks never nest."""
    lowered = text.lower()
    spans: list[tuple[int, int, str]] = []
    for phrase, polarity in evidence:
        needle = phrase.strip().lower()
        if not needle:
            continue
        start = lowered.find(needle)
        while start != -1:
            spans.append((start, start + len(needle), polarity))
            start = lowered.find(needle, start + len(needle))
    merged: list[tuple[int, int, str]] = []
    for start, end, polarity in sorted(spans):
        if merged and start < merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], end), last[2])
        else:
            merged.append((start, end, polarity))
    return merged


def highlight(text: str, evidence: list[tuple[str, str]]) -> Markup:
    """The text as HTML with ``<mark class="POLARITY">`` around each piece of evidence."""
    out: list[str] = []
    pos = 0
    for start, end, polarity in evidence_spans(text, evidence):
        out.append(escape(text[pos:start]))
        out.append(Markup('<mark class="{}">{}</mark>').format(polarity, text[start:end]))
        pos = end
    out.append(escape(text[pos:]))
    return Markup("").join(out)
