"""cli part of Vellum (see DESIGN.md)."""
