"""The vellum command line."""
