"""The text of a crawled post as it is stored: mojibake repaired, markup dropped, spaces folded.

One rule for every reader of crawled text: the normalise pipeline cleans each item's text, title, author name and
company reply with it, and a spider that must read a post before it yields it (Discourse's mention filter) reads
the same cleaned text.
"""

from __future__ import annotations

import re
import unicodedata

import ftfy
from ftfy import badness
from w3lib.html import remove_tags, remove_tags_with_content, replace_entities

_BLOCK_END = re.compile(r"(?i)<br\s*/?>|</(?:p|div|li|h[1-6]|blockquote|tr|pre)>")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def repair_encoding(text: str) -> str:
    """ftfy's repair where ftfy's own detector sees mojibake; NFC otherwise.

    Most reviews are clean: ASCII skips ftfy entirely and clean non-ASCII text pays only the detector, which
    halves the per-item cost of cleaning (bench/crawl.py) without missing what ftfy would repair.
    """
    if text.isascii():
        return text
    if badness.is_bad(text):
        return ftfy.fix_text(text, unescape_html=False)
    return unicodedata.normalize("NFC", text)


def clean_text(raw: str) -> str:
    """Repair mojibake (ftfy), drop markup keeping paragraph breaks, decode entities, fold spaces."""
    text = repair_encoding(raw)
    if "<" in text and ">" in text:
        text = remove_tags_with_content(text, which_ones=("script", "style"))
        text = remove_tags(_BLOCK_END.sub("\n", text))
    if "&" in text:
        text = replace_entities(text)
    text = _SPACES.sub(" ", text)
    return _BLANK_LINES.sub("\n\n", "\n".join(line.strip() for line in text.split("\n"))).strip()
