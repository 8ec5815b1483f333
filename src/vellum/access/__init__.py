"""Access part: who may see which collection. One check, used by every route."""

from vellum.access.policy import (
    ANONYMOUS,
    OPERATOR,
    Principal,
    can_view,
    visible_collections,
)
from vellum.access.web import principal_from_request

__all__ = [
    "ANONYMOUS",
    "OPERATOR",
    "Principal",
    "can_view",
    "principal_from_request",
    "visible_collections",
]
