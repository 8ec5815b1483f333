"""The Dublin Core elements the catalog keeps, in the order forms and pages show them."""

from __future__ import annotations

# Beyond title and description, which collections keep as columns of their own.
DC_ELEMENTS = (
    "subject",
    "creator",
    "publisher",
    "contributor",
    "date",
    "type",
    "language",
    "coverage",
    "rights",
    "source",
)
# All fifteen, for seeds, which keep every element in their JSON.
ALL_DC_ELEMENTS = ("title", "description", *DC_ELEMENTS)
