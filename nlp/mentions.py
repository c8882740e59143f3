"""Which configured brands, products and competitors a text mentions, and which one it is about.

A spaCy PhraseMatcher on lower-cased tokens over every alias of every entity (any language: brand names cross
languages); overlapping matches keep the longest (``"Telekom Deutschland"`` over ``"Telekom"``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import spacy
from spacy.matcher import PhraseMatcher
from spacy.tokens import Span
from spacy.util import filter_spans

from config.schema import EntityConfig

NO_MENTION = "no configured brand, product or competitor is mentioned"


class EntityMatcher:
    """Finds entity mentions; one matcher for all entities, built once per config."""

    def __init__(self, entities: Sequence[EntityConfig]) -> None:
        self.entities = {e.name: e for e in entities}
        self.nlp = spacy.blank("xx")
        self.nlp.add_pipe("sentencizer")  # rule-based, any language: where a post's sentences end
        self.matcher = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        for entity in entities:
            # a blank pipeline's tokenizer is a spacy.tokenizer.Tokenizer; spaCy types it as any str -> Doc callable
            self.matcher.add(entity.name, list(self.nlp.tokenizer.pipe(entity.all_aliases())))  # type: ignore[union-attr]

    def mentions(self, text: str) -> list[str]:
        """Entity names in order of appearance, one per mention (repeats kept, for counting)."""
        doc = self.nlp.make_doc(text)
        spans = filter_spans([Span(doc, start, end, label=key) for key, start, end in self.matcher(doc)])
        return [span.label_ for span in sorted(spans, key=lambda s: s.start)]

    def sentences_about(self, text: str) -> dict[str, str]:
        """Each mentioned entity with the sentences of TEXT about it, in order: a sentence naming entities is
        about each of them; one naming none is about the entity named last before it ("I left Acme. Their app
        kept crashing."), or, before any name, the first one named. "Left Acme for Globex, much happier" counts
        for both on that sentence, "Globex is great" only for Globex."""
        doc = self.nlp(text)
        spans = filter_spans([Span(doc, start, end, label=key) for key, start, end in self.matcher(doc)])
        if not spans:
            return {}
        order = list(dict.fromkeys(span.label_ for span in sorted(spans, key=lambda s: s.start)))
        about: dict[str, list[str]] = {name: [] for name in order}
        current: list[str] = [order[0]]
        for sentence in doc.sents:
            named = list(dict.fromkeys(s.label_ for s in spans if sentence.start <= s.start < sentence.end))
            current = named or current[-1:]
            for name in current:
                about[name].append(sentence.text.strip())
        return {name: " ".join(part for part in parts if part) for name, parts in about.items()}

    def find(self, text: str) -> list[str]:
        """Entity names mentioned, each once, in order of first mention."""
        return list(dict.fromkeys(self.mentions(text)))

    def attribute(self, text: str, default: str | None = None) -> tuple[str | None, str]:
        """The entity the text is about and why; ``(None, reason)`` means drop it.

        ``default`` is the entity the source is about (a brand's review page). A text there that names only a
        competitor of it is about that competitor; a text that names nothing stays with the default. Without a
        default, the most-mentioned entity wins (ties: the first mentioned).
        """
        mentioned = self.mentions(text)
        if not mentioned:
            return (default, "no mention; the source's entity") if default else (None, NO_MENTION)
        counts = Counter(mentioned)
        if default in counts:
            return default, f"mentions {default}"
        competitors = set(self.entities[default].competitors) if default in self.entities else set()
        rivals = [name for name in dict.fromkeys(mentioned) if name in competitors]
        if default and rivals:
            return rivals[0], f"mentions competitor {rivals[0]}, not {default}"
        top = max(dict.fromkeys(mentioned), key=lambda name: counts[name])
        return top, f"mentions {top}" + (f" ({counts[top]}x)" if counts[top] > 1 else "")
