"""urls part of Vellum (see DESIGN.md)."""
