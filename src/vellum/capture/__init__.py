"""capture part of Vellum (see DESIGN.md)."""
