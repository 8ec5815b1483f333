"""`python -m vellum` runs the command line."""

from vellum.cli.main import main

main()
