"""Map URLs found in archived content to URLs inside the archive."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

# Schemes that must be left alone: they do not load anything from the live web.
_UNTOUCHED_SCHEMES = ("data:", "javascript:", "mailto:", "tel:", "about:", "blob:", "#")


@dataclass(frozen=True)
class UrlRewriter:
    """Rewrites URLs relative to one archived document.

    `prefix` is the collection's replay root, such as `/unesco/`; `timestamp` is the
    capture's 14-digit timestamp; `base_url` is the document's URL (or its <base href>).
    """

    prefix: str
    timestamp: str
    base_url: str

    def rewrite(self, url: str, modifier: str = "") -> str:
        """The archive URL for `url` as found in the document; untouched if not fetchable."""
        stripped = url.strip()
        if not stripped or stripped.lower().startswith(_UNTOUCHED_SCHEMES):
            return url
        if stripped.startswith(self.prefix) and not stripped.startswith("//"):
            return url  # already rewritten
        absolute = urljoin(self.base_url, stripped)
        scheme = urlsplit(absolute).scheme.lower()
        if scheme not in ("http", "https"):
            return url
        return f"{self.prefix}{self.timestamp}{modifier}/{absolute}"

    def with_base(self, base_url: str) -> UrlRewriter:
        """The same rewriter for a document whose <base href> is `base_url`."""
        return UrlRewriter(self.prefix, self.timestamp, urljoin(self.base_url, base_url))
