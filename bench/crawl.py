"""How fast the crawler reads the loopback demo sites, and what our spiders + pipelines cost per page.

Three crawls of the same demo server, throttling off, in this one run:
- ours: every demo source (schema.org, Trustpilot-style, app-store feeds, Discourse, RSS) into a fresh SQLite
  store, at two sizes (one page per source, then every page), so start-up cost cancels out of the per-page slope;
- a null spider (same Scrapy settings, same kind and number of pages, no parsing, no pipelines): the baseline
  whose per-page CPU is Scrapy's own downloading; ours minus null is the spider + pipeline overhead;
- `scrapy bench` (Scrapy's own loopback benchmark, its pages are tiny link lists), run right after, for pages/s.
CPU is the crawler child process's user+sys time (getrusage of children); the demo server runs in this process.

Run: .venv/bin/python bench/crawl.py [--scale 4]   (writes bench/results/crawl.md)
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config.schema import OnpsConfig  # noqa: E402

TARGET_MS = 5.0


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured(fn, *args: Any, repeat: int = 1) -> tuple[Any, float, float]:  # noqa: ANN001 (any callable)
    """(result, wall seconds, child CPU seconds) of the run with the least CPU out of REPEAT.

    The machine is shared: other jobs inflate a run's CPU time (cache, frequency), never deflate it, so the
    least of a few runs is the closest to the crawler's own cost.
    """
    best: tuple[Any, float, float] | None = None
    for _ in range(repeat):
        cpu, wall = child_cpu(), time.perf_counter()
        result = fn(*args)
        run = (result, time.perf_counter() - wall, child_cpu() - cpu)
        if best is None or run[2] < best[2]:
            best = run
    assert best is not None
    return best


def ours(cfg: OnpsConfig, tmp: Path) -> Any:
    """One crawl of every demo source into a fresh SQLite store; its CrawlReport."""
    from crawlers.run import crawl_sources
    from store.migrate import upgrade

    url = f"sqlite:///{Path(tempfile.mkdtemp(dir=tmp)) / 'onps.db'}"
    upgrade(url)
    report = crawl_sources(cfg, url, progress=False)
    if report.errors:
        raise SystemExit(f"the benchmark crawl had errors: {report.errors[:3]}")
    return report


def ours_no_store(cfg: OnpsConfig) -> Any:
    """The same crawl with spiders and validate/normalise/dedupe but no database (no persist pipeline)."""
    from crawlers.run import run_spec, spider_arguments
    from crawlers.settings import scrapy_settings

    specs = [{"kind": s.kind, "spider": spider_arguments(cfg, s)} for s in cfg.sources if s.enabled]
    return run_spec({"settings": scrapy_settings(cfg.crawl), "sources": specs}, False, {})


def per_format(cfg: OnpsConfig, topic: int, rounds: int = 20) -> list[tuple[str, int, float, float]]:
    """In-process CPU of one typical page per source: (source, items, spider ms, pipelines ms), no store."""
    import httpx
    from scrapy import Request
    from scrapy.http import HtmlResponse, TextResponse
    from scrapy.utils.test import get_crawler

    from crawlers.items import ReviewItem
    from crawlers.run import spider_arguments
    from crawlers.spiders import spider_class
    from pipelines.dedupe import DedupePipeline
    from pipelines.normalise import NormalisePipeline
    from pipelines.validate import ValidatePipeline

    rows = []
    with httpx.Client() as client:
        for source in cfg.sources:
            url, callback = source.url, "parse"
            if source.kind == "discourse":
                url, callback = f"{source.url.rstrip('/')}/t/{topic}.json", "parse_topic"
            body = client.get(url).content
            spent, matcher = [0.0, 0.0], None
            for round_ in range(rounds + 1):  # the first round warms up (spaCy's vocabulary, caches)
                crawler = get_crawler(spider_class(source.kind))
                spider = crawler.spidercls.from_crawler(crawler, **spider_arguments(cfg, source))
                crawler.spider = spider
                spider._matcher = matcher  # a crawl builds the mention matcher once per source, not per page
                kind = HtmlResponse if body.lstrip()[:1] == b"<" else TextResponse
                response = kind(url=url, body=body, request=Request(url), encoding="utf-8")
                stages = [ValidatePipeline(crawler), NormalisePipeline(crawler), DedupePipeline(crawler)]
                gc.collect()  # the throw-away crawlers' garbage is not the page's cost
                start = time.process_time()
                items = [o for o in getattr(spider, callback)(response) if isinstance(o, ReviewItem)]
                parsed = time.process_time()
                matcher = spider._matcher
                for item in items:
                    for stage in stages:
                        item = stage.process_item(item)
                if round_:
                    spent[0] += parsed - start
                    spent[1] += time.process_time() - parsed
            rows.append((source.name, len(items), spent[0] / rounds * 1000, spent[1] / rounds * 1000))
    return rows


def null_urls(cfg: OnpsConfig, pages: dict[str, int], topics: list[int]) -> list[str]:
    """As many pages of each source as our crawl read, of the same kind, for the null spider."""
    from w3lib.url import add_or_replace_parameter

    urls: list[str] = []
    for source in cfg.sources:
        n = pages.get(source.name, 0)
        if source.kind == "discourse":
            base = source.url.rstrip("/")
            urls += [f"{base}/latest.json"] + [f"{base}/t/{t}.json" for t in topics[: max(n - 1, 0)]]
        else:
            urls += [add_or_replace_parameter(source.url, "page", str(k)) for k in range(1, n + 1)]
    return urls


def null_crawl(cfg: OnpsConfig, urls: list[str], tmp: Path, items_per_page: int = 0) -> float:
    """Seconds the null spider was open (start-up excluded); it yields ITEMS_PER_PAGE empty items per page."""
    spec = tmp / "null.json"
    spec.write_text(json.dumps({"crawl": cfg.crawl.model_dump(), "urls": urls, "items": items_per_page}),
                    encoding="utf-8")
    done = subprocess.run([sys.executable, __file__, "--null-child", str(spec)], check=True, capture_output=True,
                          text=True)
    return float(done.stdout.strip().splitlines()[-1])


def null_child(spec_path: str) -> None:
    """The baseline crawler process: our Scrapy settings and collector tuning, a spider that parses nothing."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    from config.schema import CrawlConfig
    from crawlers.runner import tune_gc
    from crawlers.settings import scrapy_settings

    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))

    class NullSpider(scrapy.Spider):
        name = "null"

        async def start(self):  # noqa: ANN202
            for url in spec["urls"]:
                yield scrapy.Request(url, dont_filter=True)

        def parse(self, response):  # noqa: ANN001, ANN201
            for number in range(spec["items"]):
                yield {"n": number}

    settings = scrapy_settings(CrawlConfig.model_validate(spec["crawl"]))
    settings["ITEM_PIPELINES"] = {}
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(NullSpider)
    process.crawl(crawler)
    tune_gc()  # the crawler process's collector settings, so the baseline differs from ours only in the spider
    process.start()
    print(crawler.stats.get_value("elapsed_time_seconds"))


def scrapy_bench(seconds: int) -> tuple[int, float]:
    """Pages and seconds of `scrapy bench` (its own server and link-following spider)."""
    done = subprocess.run(
        [sys.executable, "-m", "scrapy", "bench", "-s", f"CLOSESPIDER_TIMEOUT={seconds}", "-s", "LOG_LEVEL=INFO"],
        capture_output=True, text=True, check=True, cwd=tempfile.gettempdir(),
    )
    pages = int(re.search(r"'response_received_count': (\d+)", done.stderr).group(1))
    elapsed = float(re.search(r"'elapsed_time_seconds': ([\d.]+)", done.stderr).group(1))
    return pages, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=4.0, help="demo content scale (4: about 6,000 documents)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each crawl; the least CPU counts (default 3)")
    parser.add_argument("--null-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.null_child:
        null_child(args.null_child)
        return

    from demo.config import demo_config
    from demo.generate import generate
    from demo.server import serving

    content = generate(seed=7, scale=args.scale)
    topics = [t.id for t in sorted(content.topics, key=lambda t: (t.last_posted_at, t.id), reverse=True)]
    with tempfile.TemporaryDirectory() as name, serving(content) as base:
        tmp = Path(name)
        cfg = demo_config(base)
        cfg.crawl.jobdir = str(tmp / "jobs")
        cfg.crawl.max_pages = 10_000
        one_page = cfg.model_copy(deep=True)
        one_page.crawl.max_pages = 1
        for source in one_page.sources:
            source.max_pages = 1
        small, _, small_cpu = measured(ours, one_page, tmp, repeat=args.repeat)
        full, _, cpu = measured(ours, cfg, tmp, repeat=args.repeat)
        small_pages = small.totals.pages
        pages, items = full.totals.pages, full.totals.items
        per_source = {name: counts.pages for name, counts in full.sources.items()}
        small_urls = null_urls(cfg, {s.name: 1 for s in cfg.sources}, topics)
        big_urls = null_urls(cfg, per_source, topics)
        _, _, null_small_cpu = measured(null_crawl, cfg, small_urls, tmp, repeat=args.repeat)
        null_seconds, _, null_cpu = measured(null_crawl, cfg, big_urls, tmp, repeat=args.repeat)
        n_small, n_big = len(small_urls), len(big_urls)
        per_page = round(items / pages)
        _, _, items_small_cpu = measured(null_crawl, cfg, small_urls, tmp, per_page, repeat=args.repeat)
        items_seconds, _, items_cpu = measured(null_crawl, cfg, big_urls, tmp, per_page, repeat=args.repeat)
        _, _, nostore_small_cpu = measured(ours_no_store, one_page, repeat=args.repeat)
        nostore, _, nostore_cpu = measured(ours_no_store, cfg, repeat=args.repeat)
        formats = per_format(cfg, topics[0])
    (bench_pages, bench_secs), _, bench_cpu = measured(scrapy_bench, 10)

    ours_ms = (cpu - small_cpu) / (pages - small_pages) * 1000
    null_ms = (null_cpu - null_small_cpu) / (n_big - n_small) * 1000
    overhead = ours_ms - null_ms
    items_ms = (items_cpu - items_small_cpu) / (n_big - n_small) * 1000
    nostore_ms = (nostore_cpu - nostore_small_cpu) / (nostore.totals.pages - small_pages) * 1000
    ours_rate, items_rate = pages / full.totals.seconds, items / full.totals.seconds
    null_rate = n_big / null_seconds
    bench_rate = bench_pages / bench_secs
    lines = [
        "## Crawler throughput and CPU per page (bench/crawl.py)",
        "",
        f"Command: `.venv/bin/python bench/crawl.py --scale {args.scale:g} --repeat {args.repeat}`. "
        "Machine: 2-core x86_64, 24 GiB, no GPU, "
        f"shared with other jobs (Python {platform.python_version()}). Loopback demo sites "
        f"({len(content.docs)} documents, 11 sources), throttling off, robots.txt obeyed, SQLite store.",
        "CPU per page is the slope between a one-page-per-source crawl and the full crawl (start-up cancels out), "
        f"each the least CPU of {args.repeat} runs;",
        "pages/s and items/s count the time the spiders were open (process start-up excluded).",
        "Baselines in the same run: a null spider (same settings and pages, no parsing, no pipelines) and "
        "`scrapy bench`.",
        "",
        "| crawl | pages | items | pages/s | items/s | CPU ms/page | vs null spider | vs scrapy bench (pages/s) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| ours: spiders + pipelines + SQLite | {pages} | {items} | {ours_rate:.0f} | {items_rate:.0f} | "
        f"{ours_ms:.2f} | {ours_ms / null_ms:.2f}x CPU | {ours_rate / bench_rate:.2f} |",
        f"| ours without the store (validate, normalise, dedupe) | {nostore.totals.pages} | "
        f"{nostore.totals.items} | {nostore.totals.pages / nostore.totals.seconds:.0f} | "
        f"{nostore.totals.items / nostore.totals.seconds:.0f} | {nostore_ms:.2f} | {nostore_ms / null_ms:.2f}x CPU | "
        f"{nostore.totals.pages / nostore.totals.seconds / bench_rate:.2f} |",
        f"| null spider yielding {per_page} empty items per page, no pipelines | {n_big} | {n_big * per_page} | "
        f"{n_big / items_seconds:.0f} | {n_big * per_page / items_seconds:.0f} | {items_ms:.2f} | "
        f"{items_ms / null_ms:.2f}x CPU | {n_big / items_seconds / bench_rate:.2f} |",
        f"| null spider (baseline) | {n_big} | 0 | {null_rate:.0f} | - | {null_ms:.2f} | 1.00 | "
        f"{null_rate / bench_rate:.2f} |",
        f"| `scrapy bench` (baseline) | {bench_pages} | 0 | {bench_rate:.0f} | - | "
        f"{bench_cpu / bench_pages * 1000:.2f} (incl. its server) | - | 1.00 |",
        "",
        f"Spider + pipeline overhead: **{overhead:.2f} ms CPU per page** (ours minus null), target < {TARGET_MS:g} ms: "
        f"{'met' if overhead < TARGET_MS else 'NOT met'}. A demo page holds ~20 reviews "
        f"({items / max(pages, 1):.1f} items per page on average), so that is "
        f"{overhead / max(items / max(pages, 1), 1e-9):.2f} ms per item. Of it, Scrapy's own handling of "
        f"{per_page} items per page costs {items_ms - null_ms:.2f} ms (null spider with items minus without), "
        f"the store (batched upserts into SQLite, JOBDIR checkpoints) {ours_ms - nostore_ms:.2f} ms, and our parsing "
        f"and cleaning {nostore_ms - items_ms:.2f} ms. Pages/s are bounded by the demo server (a Python threading "
        "server on the same 2 cores) and by the machine's load.",
        "",
    ]
    out = ROOT / "bench" / "results" / "crawl.md"
    previous = re.search(r"overhead: \*\*([\d.]+) ms", out.read_text(encoding="utf-8")) if out.exists() else None
    if previous:
        lines[-1:-1] = ["", f"The results file this run replaced said {previous.group(1)} ms per page."]
    lines += [
        "Per format, in this process (one typical page of each source, 20 rounds after a warm-up; no store, no "
        "Scrapy engine): the spider's parse and the validate/normalise/dedupe pipelines.",
        "",
        "| source | items on the page | spider ms | pipelines ms | spider + pipelines ms/page |",
        "| --- | ---: | ---: | ---: | ---: |",
        *[f"| {name} | {n} | {spider:.2f} | {pipes:.2f} | {spider + pipes:.2f} |"
          for name, n, spider, pipes in formats],
        "",
    ]
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
