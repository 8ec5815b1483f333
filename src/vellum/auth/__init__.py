"""Auth part: users log in with a password; sessions, CSRF tokens, log-in throttling.

The web routes are in `vellum.auth.web`; who may see what is decided in `vellum.access`.
"""
