"""The public portal: the home page, a collection's page and the calendar of a URL.

Server-rendered, no script. Every page lists only what the visitor may see (the
collection routes are behind `CollectionGate`; the home page filters with
`visible_collections`), and the figures come from `StatsCache`, never from a scan of
the captures per request.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from vellum import __version__
from vellum.access import principal_from_request, visible_collections
from vellum.access.exclusions import AccessRules, View
from vellum.catalog import Catalog, Collection
from vellum.errors import NotFound
from vellum.index.cdxj import Capture
from vellum.index.store import IndexStore
from vellum.settings import Settings
from vellum.urls.surt import surt
from vellum.urls.wayback import repair_url, replay_path
from vellum.web.calendar import MONTHS, build_calendar
from vellum.web.details import Details, active_seeds, collection_details
from vellum.web.layout import page_templates
from vellum.web.stats import CollectionStats, StatsCache

__all__ = ["Portal", "human_date", "versions_href"]

MAX_URL = 2048
CALENDAR_ALL = 1000  # captures of a URL shown at once; beyond, one year at a time
_URL_SAFE = ":/?&=%#@!$,;+~*()[]"


@dataclass(frozen=True)
class CollectionCard:
    """A collection as the home page and its own page show it."""

    collection: Collection
    details: Details | None
    stats: CollectionStats
    first: str  # "29 December 2015", or ""
    last: str


class Portal:
    """The portal's pages; `index(slug)` opens a collection's index store."""

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        index: Callable[[str], IndexStore],
    ) -> None:
        self._catalog = catalog
        self._stats = StatsCache(index, settings.index_dir)
        self._access = AccessRules(catalog, settings.catalog_path)
        self._templates = page_templates(catalog)

    async def home(self, request: Request) -> Response:
        """Every collection the visitor may see, with its organization, metadata and figures."""
        return await run_in_threadpool(self._home, request)

    def _home(self, request: Request) -> Response:
        principal = principal_from_request(request, self._catalog)
        collections = visible_collections(self._catalog, principal)
        return self.render("home.html", cards=self._cards(request, collections))

    async def collection_page(self, request: Request) -> Response:
        """A collection: description, metadata, seeds, figures, the URL and search boxes.

        `?url=` (the URL box) goes to the calendar of that URL.
        """
        return await run_in_threadpool(self._collection_page, request)

    def _collection_page(self, request: Request) -> Response:
        try:
            collection = self._catalog.get_collection(request.path_params["slug"])
        except NotFound:
            return self.not_found("No such collection", "This collection does not exist.")
        asked = request.query_params.get("url")
        error = ""
        if asked is not None:
            url, error = _check_url(asked)
            if not error:
                return RedirectResponse(versions_href(collection.slug, url), status_code=303)
        card = self._cards(request, [collection])[0]
        seeds, seed_total = active_seeds(self._catalog, collection.slug)
        return self.render(
            "collection.html",
            status=400 if error else 200,
            card=card,
            collection=collection,
            seeds=[(s, versions_href(collection.slug, s.url)) for s in seeds],
            seed_total=seed_total,
            pages=[
                (p, replay_path(collection.slug, p.latest, p.url), human_date(p.latest))
                for p in card.stats.some_pages
            ],
            url_value=(asked or "")[:MAX_URL],
            url_error=error,
            max_url=MAX_URL,
        )

    def calendar(
        self, collection: Collection, url: str, captures: list[Capture], prefix: str = ""
    ) -> Response:
        """The calendar page of one URL: its captures by year, month and day.

        `/<slug>/2015*/<url>` (`prefix` "2015") shows 2015 only; without one, a URL with
        more than `CALENDAR_ALL` captures shows its latest year, the others a link away.
        """
        try:
            key = surt(url)
        except ValueError:
            key = ""
        mine = [c for c in captures if c.urlkey == key]
        by_ts = {c.timestamp: c.url for c in mine}
        per_year = Counter(c.timestamp[:4] for c in mine)
        if len(prefix) >= 4 and prefix[:4] in per_year:
            shown = prefix[:4]
        elif len(mine) <= CALENDAR_ALL or not per_year:
            shown = ""
        else:
            shown = max(per_year)
        years = build_calendar(
            ((c.timestamp, c.status, c.mime) for c in mine if c.timestamp.startswith(shown)),
            lambda ts: replay_path(collection.slug, ts, by_ts[ts]),
        )
        year_links = [
            (
                year,
                count,
                f"#y{year}" if year.startswith(shown) else _year_href(collection, year, url),
            )
            for year, count in sorted(per_year.items(), reverse=True)
        ]
        return self.render(
            "versions.html",
            collection=collection,
            url=url,
            total=len(mine),
            years=years,
            year_links=year_links,
            shown_year=shown,
            first=human_date(min(by_ts)) if by_ts else "",
            last=human_date(max(by_ts)) if by_ts else "",
        )

    def not_found(self, heading: str, message: str) -> HTMLResponse:
        return self.render("not_found.html", status=404, heading=heading, message=message)

    def render(self, template: str, status: int = 200, **context: object) -> HTMLResponse:
        html = self._templates.get_template(template).render(version=__version__, **context)
        return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})

    def _cards(self, request: Request, collections: list[Collection]) -> list[CollectionCard]:
        details = collection_details(self._catalog, [c.slug for c in collections])
        cards = []
        for c in collections:
            view = self._access.for_request(request, c)
            # Exclusions hold for all; an embargo's cutoff is rounded down to its day, so
            # figures are kept per day (and hide that day's captures too).
            view = View(view.rules, view.cutoff[:8])
            stats = self._stats.stats(c.slug, view)
            cards.append(
                CollectionCard(
                    c, details.get(c.slug), stats, human_date(stats.first), human_date(stats.last)
                )
            )
        return cards


def _year_href(collection: Collection, year: str, url: str) -> str:
    return f"/{collection.slug}/{year}*/{quote(url, safe=_URL_SAFE)}"


def versions_href(slug: str, url: str) -> str:
    """The calendar page of `url` in a collection."""
    return f"/{slug}/*/{quote(url, safe=_URL_SAFE)}"


def human_date(timestamp: str) -> str:
    """`20151229231410` → `29 December 2015`; "" for "" or nonsense."""
    if len(timestamp) < 8 or not timestamp[:8].isdigit():
        return ""
    month = int(timestamp[4:6])
    if not 1 <= month <= 12:
        return ""
    return f"{int(timestamp[6:8])} {MONTHS[month - 1]} {timestamp[:4]}"


def _check_url(asked: str) -> tuple[str, str]:
    """(the URL to look up, "") or ("", why it cannot be looked up)."""
    text = asked.strip()
    if not text:
        return "", "Enter the address of a page, such as https://www.example.org/."
    if len(text) > MAX_URL:
        return "", f"An address has at most {MAX_URL} characters."
    if any(ch.isspace() or ord(ch) < 0x20 for ch in text):
        return "", "An address cannot contain spaces or control characters."
    url = repair_url(text)
    if not url.lower().startswith(("http://", "https://")):
        return "", "Only http and https addresses are archived."
    try:
        host = urlsplit(url).hostname
        surt(url)
    except ValueError:
        host = None
    if not host:
        return "", "This is not a valid web address: it has no host name."
    return url, ""
