"""What every command gets: the settings and a lazily opened catalog."""

from __future__ import annotations

import click

from vellum.catalog import Catalog
from vellum.settings import Settings


class CliContext:
    """Settings from the global options, and the catalog opened on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._catalog: Catalog | None = None

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = Catalog(self.settings.catalog_location)
        return self._catalog


pass_context = click.make_pass_decorator(CliContext)
