"""warc part of Vellum (see DESIGN.md)."""
