"""`/api/search` (JSON) and `/search` (a page with clickable facets).

Only the collections the asker may see are searched, so hits and facet counts of
private collections never reach anyone else.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from vellum import __version__
from vellum.access import principal_from_request, visible_collections
from vellum.access.exclusions import AccessRules, View
from vellum.catalog import Catalog
from vellum.errors import InvalidInput, VellumError
from vellum.search.feed import open_search_index
from vellum.search.model import SORTS, Hidden, Hit, SearchRequest, SearchResults
from vellum.search.query import parse_query
from vellum.search.tantivy_index import TantivySearchIndex
from vellum.settings import Settings
from vellum.web.layout import page_templates

__all__ = ["routes"]

MAX_PER_PAGE = 100
MAX_PAGE = 1000
_FACET_FILTER = {"collection": "collection", "host": "host", "mime": "mime", "lang": "lang"}


def routes(settings: Settings, catalog: Catalog) -> list[BaseRoute]:
    """The search routes, to be placed before the `/{slug}` routes."""
    web = _SearchWeb(settings, catalog)
    return [Route("/api/search", web.api), Route("/search", web.page)]


class _SearchWeb:
    def __init__(self, settings: Settings, catalog: Catalog) -> None:
        self._settings = settings
        self._catalog = catalog
        self._index: TantivySearchIndex | None = None
        self._access = AccessRules.of(catalog, settings)  # exclusions, embargo
        self._lock = threading.Lock()
        self._templates = page_templates(catalog, "vellum.search")

    def _search_index(self) -> TantivySearchIndex:
        with self._lock:
            if self._index is None:
                self._index = open_search_index(self._settings)
            self._index.refresh()  # crawls and imports commit from other processes
            return self._index

    def _run(self, request: Request) -> tuple[str, SearchResults, float]:
        params = request.query_params
        text = params.get("q", "")
        for slug in params.getlist("collection"):
            text += f" collection:{slug}"
        sort = params.get("sort", "relevance")
        if sort not in SORTS:
            raise InvalidInput(f"sort must be one of {', '.join(SORTS)}")
        page = _int(params.get("page", "1"), "page", 1, MAX_PAGE)
        per_page = _int(params.get("per_page", "10"), "per_page", 1, MAX_PER_PAGE)
        query = parse_query(text)
        principal = principal_from_request(request, self._catalog)
        views = {
            c.slug: self._access.for_request(request, c)
            for c in visible_collections(self._catalog, principal)
        }
        hidden = [
            Hidden(slug, view.rules.prefixes, tuple(sorted(view.rules.exact)), view.cutoff)
            for slug, view in views.items()
            if not view.unrestricted
        ]
        started = time.perf_counter()
        results = self._search_index().search(
            SearchRequest(
                query,
                list(views),
                sort=sort,
                page=page,
                per_page=per_page,
                hidden=hidden,
            )
        )
        # The query left hidden documents out; what is left to do is per capture (the
        # embargoed times of a document that also has older ones), and what an index
        # term cannot hold (a URL too long for one).
        results.hits[:] = _allowed(views, results.hits)
        return text.strip(), results, time.perf_counter() - started

    def api(self, request: Request) -> Response:
        try:
            text, results, took = self._run(request)
        except InvalidInput as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except VellumError as exc:  # the index cannot be opened (another version…)
            return JSONResponse({"error": str(exc)}, status_code=503)
        return JSONResponse(
            {
                "query": text,
                "total": results.total,
                "page": results.page,
                "per_page": results.per_page,
                "pages": results.pages,
                "took_ms": round(took * 1000, 2),
                "hits": [hit.to_json() for hit in results.hits],
                "facets": {
                    name: [{"value": v, "count": n} for v, n in pairs]
                    for name, pairs in results.facets.items()
                },
            }
        )

    def page(self, request: Request) -> Response:
        q = request.query_params.get("q", "")
        if not q.strip() and not request.query_params.getlist("collection"):
            return self._render("search.html", q="", results=None, error=None)
        try:
            _, results, took = self._run(request)
        except InvalidInput as exc:
            return self._render("search.html", q=q, results=None, error=str(exc), status=400)
        except VellumError as exc:
            return self._render("search.html", q=q, results=None, error=str(exc), status=503)
        sort = request.query_params.get("sort", "relevance")

        def link(query: str, page: int = 1, order: str = sort) -> str:
            return "/search?" + urlencode({"q": query, "sort": order, "page": page})

        facets = [
            (name, [(value, count, link(_refine(q, name, value))) for value, count in pairs])
            for name, pairs in results.facets.items()
            if pairs
        ]
        return self._render(
            "search.html",
            q=q,
            results=results,
            facets=facets,
            took_ms=round(took * 1000, 1),
            sort=sort,
            sorts=[(s, link(q, order=s)) for s in SORTS],
            prev_href=link(q, results.page - 1) if results.page > 1 else None,
            next_href=link(q, results.page + 1) if results.page < results.pages else None,
            error=None,
        )

    def _render(self, name: str, status: int = 200, **values: object) -> HTMLResponse:
        template = self._templates.get_template(name)
        return HTMLResponse(template.render(version=__version__, **values), status_code=status)


def _allowed(views: dict[str, View], hits: list[Hit]) -> list[Hit]:
    """Hits without excluded URLs, and without captures under an embargo."""
    kept: list[Hit] = []
    for hit in hits:
        view = views.get(hit.collection)
        if view is None or view.hides_url(hit.url):
            continue
        times = tuple(ts for ts in hit.timestamps if view.allows_at(hit.url, ts))
        if times:
            kept.append(hit if times == hit.timestamps else replace(hit, timestamps=times))
    return kept


def _refine(q: str, facet: str, value: str) -> str:
    """The query with one more facet filter (years become a from:/to: range)."""
    if facet == "year":
        return f"{q} from:{value} to:{value}".strip()
    term = f'{_FACET_FILTER[facet]}:"{value}"' if " " in value else f"{facet}:{value}"
    return q if term in q.split() else f"{q} {term}".strip()


def _int(value: str, name: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number, not {value!r}") from None
    if not low <= number <= high:
        raise InvalidInput(f"{name} must be between {low} and {high}")
    return number
