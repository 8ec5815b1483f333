"""Vellum: self-hosted web archiving (capture, WARC storage, index, replay)."""

__version__ = "0.1.0"
__all__ = ["__version__"]
