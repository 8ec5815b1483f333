"""Typed settings, read once at start-up and passed down explicitly."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from vellum import __version__

DEFAULT_DATA_DIR = "vellum-data"
CONTACT_URL = "https://github.com/vellum-archive/vellum"


@dataclass(frozen=True)
class Settings:
    """Where Vellum keeps its data and how it presents itself on the web."""

    data_dir: Path
    user_agent: str = f"Mozilla/5.0 (compatible; Vellum/{__version__}; +{CONTACT_URL})"

    @classmethod
    def from_env(cls, data_dir: str | os.PathLike[str] | None = None) -> Settings:
        """Settings from an explicit data directory, else $VELLUM_DATA, else ./vellum-data."""
        chosen = data_dir or os.environ.get("VELLUM_DATA") or DEFAULT_DATA_DIR
        return cls(data_dir=Path(chosen).resolve())

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "vellum.db"

    def collection_dir(self, slug: str) -> Path:
        return self.data_dir / "collections" / slug

    def warc_dir(self, slug: str) -> Path:
        return self.collection_dir(slug) / "warcs"

    def index_dir(self, slug: str) -> Path:
        return self.collection_dir(slug) / "indexes"
