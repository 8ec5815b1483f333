"""index part of Vellum (see DESIGN.md)."""
