"""Errors meant for people: one line saying what failed and what to do."""


class VellumError(Exception):
    """An expected failure; the CLI prints its message on one line and exits non-zero."""

    exit_code = 1


class NotFound(VellumError):
    """A named organization, collection or capture does not exist."""


class InvalidInput(VellumError):
    """Input that cannot be used as given (a malformed URL, a bad option value)."""

    exit_code = 2
