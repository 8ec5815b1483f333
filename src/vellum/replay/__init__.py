"""replay part of Vellum (see DESIGN.md)."""
