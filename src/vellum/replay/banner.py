"""The banner shown above an archived page (every archived string HTML-escaped)."""

from __future__ import annotations

from datetime import datetime
from html import escape

from vellum.urls.timestamps import banner_date

STYLESHEET = "/static/banner.css"
SCRIPT = "/static/banner.js"


def banner_html(
    organization: str,
    collection_title: str,
    captured: datetime,
    versions_href: str,
    collection_href: str,
) -> str:
    """The banner block inserted at the top of an archived page's body."""
    when = banner_date(captured)
    return (
        '<div id="vellum-banner" role="banner" lang="en" dir="ltr">'
        '<div class="vellum-banner-text">'
        "You are viewing an archived web page, collected at the request of "
        f'<a class="vellum-org" href="{escape(collection_href)}">{escape(organization)}</a>'
        " using Vellum. This page was captured on "
        f'<time datetime="{captured.isoformat()}" title="Capture time in UTC">{when}</time>'
        f", and is part of the {escape(collection_title)} collection. "
        "The information on this web page may be out of date. "
        f'See <a class="vellum-versions" href="{escape(versions_href)}">All versions</a>'
        " of this archived page."
        "</div>"
        '<button type="button" class="vellum-hide" aria-label="Hide this banner" '
        'title="Hide this banner">hide</button>'
        "</div>"
    )


def head_insert() -> str:
    """What goes right after <head>: the banner's stylesheet and script."""
    return (
        f'<link rel="stylesheet" href="{STYLESHEET}" data-vellum="1">'
        f'<script src="{SCRIPT}" defer data-vellum="1"></script>'
    )
