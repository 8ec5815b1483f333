"""demo part of Vellum (see DESIGN.md)."""
