"""search part of Vellum (see DESIGN.md)."""
