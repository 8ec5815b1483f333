"""web part of Vellum (see DESIGN.md)."""
