"""Glassdoor employer reviews: server-rendered review pages (hReview markup), one ``li.empReview`` per review,
paginated by ``div.pagingControls li.next a``.

Every item is an employee's voice (``audience: "employee"``: its groups are an eNPS, never mixed with an NPS).
Reviews are anonymous, so there is no author: each review is its own voice, and the job title, whether the
reviewer still works there and the location are facts about the review, not an identity. The page repeats a
review (a "locked" teaser copy of the first one among them): one item per review id. Each review carries the
employer's reply template, empty where the employer has not replied: only a reply with text is a company reply.
The last page's "next" link points to the page itself, which is where paging ends (not a pagination loop).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

from parsel import Selector
from scrapy.http import Response

from crawlers.spiders.base import SourceSpider
from nps.record import web_url

REVIEW_ID = re.compile(r"RVW(\d+)")
SECTIONS = (("Pros", "p.pros"), ("Cons", "p.cons"), ("Advice to management", "p.adviceMgmt"))
# the answers Glassdoor shows beside a review, as (marker text, field, value); "Doesn't Recommend" before
# "Recommends" would not matter, the texts are matched whole
ANSWERS: dict[str, tuple[str, Any]] = {
    "recommends": ("recommends", True),
    "doesn't recommend": ("recommends", False),
    "approves of ceo": ("ceo_approval", "approves"),
    "disapproves of ceo": ("ceo_approval", "disapproves"),
    "no opinion of ceo": ("ceo_approval", "no_opinion"),
    "positive outlook": ("outlook", "positive"),
    "neutral outlook": ("outlook", "neutral"),
    "negative outlook": ("outlook", "negative"),
}
EMPLOYMENT = re.compile(r"^\s*(Current|Former)\s+Employee\b\s*(?:[-,]\s*(.*))?$", re.IGNORECASE)


def words(selector: Selector | Any) -> str:
    """The text of a node with its whitespace folded ('' for no node)."""
    return " ".join((selector.xpath("string()").get() or "").split())


def rating_key(label: str) -> str:
    """A sub-rating's label as a field name: "Comp & Benefits" -> comp_and_benefits."""
    return re.sub(r"[^a-z0-9]+", "_", label.lower().replace("&", " and ")).strip("_")


def number(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def author_facts(role: str) -> dict[str, Any]:
    """"Current Employee - Senior Consultant" -> current_employee True, job_title "Senior Consultant"."""
    found = EMPLOYMENT.match(role)
    if not found:
        return {"job_title": role} if role else {}
    facts: dict[str, Any] = {"current_employee": found.group(1).lower() == "current"}
    if found.group(2) and found.group(2).strip():
        facts["job_title"] = found.group(2).strip()
    return facts


def review_fields(review: Selector, page_url: str) -> dict[str, Any] | None:
    """The item fields of one ``li.empReview`` (pure: tested on the captured page); None without a review id."""
    link = review.css("a.reviewLink::attr(href)").get() or ""
    found = REVIEW_ID.search(link) or REVIEW_ID.search(review.attrib.get("id", "").replace("empReview_", "RVW"))
    if not found:
        return None
    sections = [(name, words(review.css(css))) for name, css in SECTIONS]
    text = "\n".join(f"{name}: {body}" for name, body in sections if body)
    answers: dict[str, Any] = {}
    for answer in review.css("div.recommends > div"):
        said = ANSWERS.get(words(answer).lower())
        if said:
            answers[said[0]] = said[1]
    sub_ratings = {rating_key(words(item.css("div.minor"))): value
                   for item in review.css("div.subRatings li")
                   if (value := number(item.css("span.gdRatings::attr(title)").get())) is not None}
    reply = words(review.css("div.empRepComment p.commentText"))
    location = words(review.css("span.authorLocation")[:1])
    return {
        "url": web_url(urljoin(page_url, link)) if link else page_url,
        "external_id": found.group(1),
        "audience": "employee",
        "author_id": None,  # anonymous: every review is its own voice
        "author_name": None,
        "author_facts": author_facts(words(review.css("span.authorJobTitle")[:1])),
        "title": words(review.css("span.summary")[:1]).strip('"') or None,
        "raw_text": text,
        "rating": number(review.css("span.rating span.value-title::attr(title)").get()),
        "rating_scale": 5,
        "published_at": review.css("time.date::attr(datetime)").get(),
        "region": location or None,
        "sub_ratings": sub_ratings or None,
        "recommends": answers.pop("recommends", None),
        "extra": {**answers, **({"company_reply": {"text": reply}} if reply else {}),
                  **({"helpful": int(h)} if (h := re.sub(r"\D", "", words(review.css(".helpfulCount")))) else {})},
    }


class GlassdoorSpider(SourceSpider):
    name = "glassdoor"
    kind = "glassdoor"

    def parse(self, response: Response) -> Iterator[Any]:
        if not self.begin_page(response):
            return
        containers = response.css("li.empReview")
        if not containers:
            self.page_error(response.url, "no li.empReview containers: not a Glassdoor reviews page (or the "
                            "markup changed); try --kind schemaorg if the page has EmployerReview markup")
            return
        seen: dict[str, Any] = {}
        # a locked teaser copy is read only where the review has no full copy on the page
        for review in sorted(containers, key=lambda r: "lockedReview" in r.attrib.get("class", "")):
            fields = review_fields(review, response.url)
            if fields is not None and fields["external_id"] not in seen:
                seen[fields["external_id"]] = self.make_item(**fields)
        items = list(seen.values())
        yield from items
        next_url = response.css("div.pagingControls li.next a::attr(href)").get()
        here = response.request.url if response.request else response.url
        if next_url and response.urljoin(next_url) not in (here, response.url) and self.keep_paging(response, items):
            request = self.request(response.urljoin(next_url))
            if request is not None:
                yield request
