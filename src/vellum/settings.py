"""Typed settings, read once at start-up and passed down explicitly."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from vellum import __version__

DEFAULT_DATA_DIR = "vellum-data"
CONTACT_URL = "https://github.com/vellum-archive/vellum"


def user_agent_for(contact_url: str) -> str:
    """The crawler's User-Agent: product token, version and the operator's contact URL."""
    return f"Mozilla/5.0 (compatible; Vellum/{__version__}; +{contact_url})"


@dataclass(frozen=True)
class Settings:
    """Where Vellum keeps its data and how it presents itself on the web."""

    data_dir: Path
    user_agent: str = f"Mozilla/5.0 (compatible; Vellum/{__version__}; +{CONTACT_URL})"
    # The two origins of framed replay (scheme://host[:port], no path). The UI origin
    # serves the banner and every page of the service; the replay origin serves only
    # archived bytes, in a frame. They must differ by host name, since cookies ignore
    # ports. `vellum serve` fills both in (UI on localhost:PORT, replay on
    # 127.0.0.1:PORT+1); None for both serves everything from one origin (tests only).
    ui_origin: str | None = None
    replay_origin: str | None = None
    # The catalog's database: None for the SQLite file `catalog_path` (the default), or
    # a URL such as postgresql+psycopg://USER:PASSWORD@HOST:PORT/NAME ($VELLUM_DATABASE_URL).
    database_url: str | None = None

    @classmethod
    def from_env(cls, data_dir: str | os.PathLike[str] | None = None) -> Settings:
        """Settings from an explicit data directory, else $VELLUM_DATA, else ./vellum-data."""
        chosen = data_dir or os.environ.get("VELLUM_DATA") or DEFAULT_DATA_DIR
        # The crawler's contact URL, set per installation (Heritrix requires one too).
        contact = os.environ.get("VELLUM_CONTACT_URL", "").strip() or CONTACT_URL
        database_url = os.environ.get("VELLUM_DATABASE_URL", "").strip() or None
        return cls(
            data_dir=Path(chosen).resolve(),
            user_agent=user_agent_for(contact),
            database_url=database_url,
        )

    @property
    def catalog_path(self) -> Path:
        """The SQLite catalog file (unused when `database_url` is set)."""
        return self.data_dir / "vellum.db"

    @property
    def catalog_location(self) -> Path | str:
        """What `Catalog(...)` opens: the database URL if set, else the SQLite file."""
        return self.database_url or self.catalog_path

    def collection_dir(self, slug: str) -> Path:
        return self.data_dir / "collections" / slug

    def warc_dir(self, slug: str) -> Path:
        return self.collection_dir(slug) / "warcs"

    def index_dir(self, slug: str) -> Path:
        return self.collection_dir(slug) / "indexes"
