"""Roles are Django groups (viewer < operator < admin); superusers are admins.

Kept here so that pages, templates and tests agree on one reading of the groups.
"""

from __future__ import annotations

from typing import Any

ROLES: tuple[str, ...] = ("viewer", "operator", "admin")


def user_roles(user: Any) -> list[str]:
    """All roles a user holds, lowest first; a superuser holds every role."""
    if not getattr(user, "is_authenticated", False):
        return []
    if user.is_superuser:
        return list(ROLES)
    names = set(user.groups.values_list("name", flat=True))
    return [r for r in ROLES if r in names]


def has_role(user: Any, role: str) -> bool:
    """True when the user holds `role` or a higher one (an admin may do what an operator may)."""
    held = user_roles(user)
    if not held:
        return False
    return ROLES.index(held[-1]) >= ROLES.index(role)
