"""catalog part of Vellum (see DESIGN.md)."""
