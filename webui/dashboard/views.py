"""Page views. They only render templates: the data reaches the page by REST and WebSocket."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse_lazy

from .roles import user_roles

LOGIN_URL = reverse_lazy("dashboard:login")

# Namespaces above which the graph starts collapsed / the table is chosen for the user.
COLLAPSE_THRESHOLD = 40
TABLE_THRESHOLD = 400


def _int_param(request: HttpRequest, name: str, default: int) -> int:
    """A positive integer from the query string (tests and power users override thresholds)."""
    try:
        value = int(request.GET.get(name, default))
    except (TypeError, ValueError):
        return default
    return value if value >= 0 else default


def _render(request: HttpRequest, template: str, active: str, **config: Any) -> HttpResponse:
    """A signed-in page: its config for the page's script, and the header's role (the groups
    read once)."""
    roles = user_roles(request.user)
    config = {"username": request.user.get_username(), "roles": roles, "apiBase": "/api/v1/", **config}
    context = {"config": config, "active": active, "role": roles[-1] if roles else None, "is_admin": "admin" in roles}
    return render(request, template, context)


def _page(request: HttpRequest, initial_view: str) -> HttpResponse:
    view = request.GET.get("view", initial_view)
    if view not in ("auto", "graph", "table"):
        view = initial_view
    return _render(
        request,
        "nsmap/graph.html",
        "table" if initial_view == "table" else "graph",
        # The lab actions POST with the session: the token travels in the page (the logout form
        # has it already), so the page needs no cookie reading.
        csrfToken=get_token(request),
        source="ws",
        initialView=view,
        collapseThreshold=_int_param(request, "collapse", COLLAPSE_THRESHOLD),
        tableThreshold=_int_param(request, "table", TABLE_THRESHOLD),
    )


@login_required(login_url=LOGIN_URL)
def graph(request: HttpRequest) -> HttpResponse:
    """The live graph (switches to the table by itself when the graph would be unreadable)."""
    return _page(request, "auto")


@login_required(login_url=LOGIN_URL)
def table(request: HttpRequest) -> HttpResponse:
    """The same data as a sortable, filterable table."""
    return _page(request, "table")


@login_required(login_url=LOGIN_URL)
def history(request: HttpRequest) -> HttpResponse:
    """Every change record, filtered by the URL (static/nsmap/history.js reads the change log API)."""
    return _render(request, "nsmap/history.html", "history")


class LoginView(auth_views.LoginView):
    """Django's login with our template; a signed-in user goes straight to the graph."""

    template_name = "nsmap/login.html"
    redirect_authenticated_user = True
    next_page = "dashboard:graph"  # a URL name: resolve_url reverses it


class LogoutView(auth_views.LogoutView):
    """POST-only logout (Django 5), back to the login page."""

    next_page = "dashboard:login"
