"""Rewriting of archived HTML and CSS so that replayed pages load from the archive."""

from vellum.replay.rewrite.css import rewrite_css
from vellum.replay.rewrite.html import HtmlRewriter, rewrite_html

__all__ = ["HtmlRewriter", "rewrite_css", "rewrite_html"]
