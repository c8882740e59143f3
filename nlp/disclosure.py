"""How a review was collected: on the reviewer's own initiative (organic) or invited / rewarded by the company.

Organic feedback, as this product defines it, is what people write on their own initiative. A review the
company asked for (Trustpilot's invitation links) or paid for in kind ("I received this product for free in
exchange for an honest review", Amazon Vine) is a solicited sample, like a survey: kept, scored, shown apart as
the invited NPS, and left out of the organic NPS (nps.organic).

`collection_channel` is the one rule: a channel the source states wins, except that a reviewer's own disclosure
of a reward in the text always makes the review invited; no statement and no disclosure leave it unknown (None),
which counts as organic. The phrase lists cover the product's languages (de, en, fr, es, ru, da, and nl for the
Belgian and Dutch sites); each pattern needs the reward AND the review or the free product together, so "I got a
free replacement after complaining" or "50 euros with the promo code" are not disclosures.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_FREE = {
    "en": r"(?:for free|free of charge|at no (?:cost|charge)|complimentary|without charge)",
    "de": r"(?:kostenlos|kostenfrei|gratis|unentgeltlich|umsonst)",
    "fr": r"(?:gratuitement|gracieusement|gratuit|offert)",
    "es": r"(?:gratis|gratuitamente|sin coste|sin costo|sin cargo)",
    "ru": r"(?:бесплатно|даром|в подарок)",
    "da": r"(?:gratis|vederlagsfrit|uden beregning)",
    "nl": r"(?:gratis|kosteloos)",
}
_GIVEN = {
    "en": r"(?:received|got|was (?:given|sent)|were (?:given|sent)|been (?:given|sent))",
    "de": r"(?:erhalten|bekommen|zur verfügung gestellt|zugeschickt|zugesandt|gestellt)",
    "fr": r"(?:reçue?s?|obtenue?s?|envoyée?s?|fournie?s?|offerte?s?)",
    "es": r"(?:recibí|recibido|me (?:dieron|enviaron|regalaron|mandaron)|enviado)",
    "ru": r"(?:получила?|получили|прислали|предоставили|выдали)",
    "da": r"(?:modtaget|modtog|fået|fik|tilsendt)",
    "nl": r"(?:ontvangen|gekregen|toegestuurd)",
}
_THING = {
    "en": r"(?:product|item|sample|unit|device|book|copy|kit|this|it)",
    "de": r"(?:produkt|artikel|muster|gerät|buch|exemplar|testgerät|es|das)",
    "fr": r"(?:produit|article|échantillon|appareil|livre|exemplaire|ce|le|la)",
    "es": r"(?:producto|artículo|muestra|aparato|libro|ejemplar|este|lo|la)",
    "ru": r"(?:товар|продукт|образец|устройство|книгу|экземпляр|его|её)",
    "da": r"(?:produktet|produkt|varen|vare|prøven|prøve|enheden|enhed|bogen|bog|eksemplar|den|det)",
    "nl": r"(?:product|artikel|monster|apparaat|boek|exemplaar|het|dit)",
}
_EXCHANGE = {
    "en": r"in (?:exchange|return) for (?:an? |my )?(?:honest |unbiased |fair |genuine )*"
          r"(?:review|opinion|feedback|rating)",
    "de": r"(?:im austausch|als gegenleistung) (?:für|gegen) (?:eine |meine )?(?:ehrliche |unabhängige |neutrale )*"
          r"(?:bewertung|rezension|meinung)",
    "fr": r"en (?:échange|contrepartie) d['’ ]?(?:un |mon )?(?:avis|commentaire|test|évaluation)",
    "es": r"a cambio de (?:una |mi )?(?:opinión|reseña|valoración|evaluación)",
    "ru": r"в обмен на (?:честный |объективный |свой )?(?:отзыв|мнение|оценку)",
    "da": r"(?:i bytte|til gengæld) for (?:en |min )?(?:ærlig )?(?:anmeldelse|vurdering|mening)",
    "nl": r"in ruil voor (?:een |mijn )?(?:eerlijke )?(?:review|recensie|beoordeling|mening)",
}
_ASKED = {
    "en": r"(?:was|were|been|got) (?:asked|invited|prompted) (?:by [\w .'&-]{1,40} )?to (?:write|leave|give|post|"
          r"submit) (?:a|an|this|my)? ?(?:review|feedback|rating)",
    "de": r"(?:wurde|wurden|bin) (?:gebeten|eingeladen|aufgefordert),? (?:eine |diese |meine )?(?:bewertung|rezension)",
    "fr": r"(?:on m'a|j'ai été|nous avons été) (?:demandé|invitée?s?|sollicitée?s?) (?:de|à|pour) "
          r"(?:laisser|donner|écrire|rédiger|déposer) (?:un |mon |cet )?(?:avis|commentaire)",
    "es": r"me (?:pidieron|invitaron a|solicitaron) (?:que )?(?:dejar|escribir|dar|deje|escriba) "
          r"(?:una |mi )?(?:opinión|reseña|valoración)",
    "ru": r"(?:меня )?попросили (?:оставить|написать|дать) (?:свой )?отзыв",
    "da": r"(?:blev|er blevet) (?:bedt|inviteret|opfordret) (?:om )?(?:at )?(?:skrive|give|lave) (?:en )?anmeldelse",
    "nl": r"(?:werd|ben|zijn) (?:gevraagd|uitgenodigd) (?:om )?(?:een )?(?:review|recensie|beoordeling)",
}
_PROGRAMMES = (r"(?:amazon vine|vine (?:voice|programm?e?|member|mitglied|produkttest)|"
               r"#(?:ad|sponsored|anzeige|werbung)\b|sponsored review|gesponserte bewertung|produkttester(?:in)?\b)")


_FOR_TESTING = r"\b(?:(?:provided|sent|given) (?:to me )?(?:for|to) (?:test|testing|review|evaluation)|" \
               r"zum (?:testen|test) (?:erhalten|bekommen|zur verfügung gestellt)|" \
               r"(?:reçu|fourni) (?:pour|afin de) (?:le )?test(?:er)?|recibido para (?:probarlo|prueba|reseñar)|" \
               r"получил[аи]? (?:на|для) (?:тест|обзор)|(?:modtaget|fået) (?:til|for at) test(?:e)?|" \
               r"(?:ontvangen|gekregen) (?:om te testen|voor een test|ter beoordeling))"


def _patterns() -> list[re.Pattern[str]]:
    found = [re.compile(_PROGRAMMES, re.IGNORECASE)]
    for lang in _FREE:
        free, given, thing = _FREE[lang], _GIVEN[lang], _THING[lang]
        gap = r"[^.!?\n]{0,40}?"
        found += [
            re.compile(rf"\b{given}\b{gap}\b{thing}\b{gap}\b{free}\b", re.IGNORECASE),
            re.compile(rf"\b{thing}\b{gap}\b{free}\b{gap}\b{given}\b", re.IGNORECASE),
            re.compile(rf"\b{_EXCHANGE[lang]}\b", re.IGNORECASE),
            re.compile(rf"\b{_ASKED[lang]}\b", re.IGNORECASE),
        ]
    found.append(re.compile(_FOR_TESTING, re.IGNORECASE))
    return found


PATTERNS = _patterns()


def disclosed_reward(text: str) -> str | None:
    """The words in which a reviewer says the review was rewarded or asked for, or None."""
    for pattern in PATTERNS:
        match = pattern.search(text)
        if match:
            return match.group(0)
    return None


@dataclass(frozen=True)
class Channel:
    """How a review was collected: ``invited`` True / False / None (unknown), and what says so."""

    invited: bool | None
    evidence: str | None = None


def collection_channel(record: Mapping[str, Any]) -> Channel:
    """The record's channel (module doc): a reward disclosed in the text, else what the source stated
    (``invited``, with its own ``channel`` label where a spider kept one), else unknown."""
    text = " ".join(str(record.get(k) or "") for k in ("title", "text"))
    disclosed = disclosed_reward(text)
    if disclosed:
        return Channel(True, f'the reviewer says: "{disclosed}"')
    stated = record.get("invited")
    if isinstance(stated, bool):
        label = record.get("channel") or ("invited by the company" if stated else "on the reviewer's own initiative")
        return Channel(stated, f"the source says: {label}")
    return Channel(None)
