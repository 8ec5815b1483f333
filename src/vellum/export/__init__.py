"""export part of Vellum (see DESIGN.md)."""
