"""Every page is served with a Content-Security-Policy that runs only the site's own scripts and
styles (no inline script, handler or style), talks only to its own origin, and cannot be framed;
no page template carries an inline script, event handler or style attribute."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _policy(response: Any) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"{response.request['PATH_INFO']} has no Content-Security-Policy"
    return {d.split()[0]: d.split()[1:] for d in header.split(";") if d.strip()}


def _check(response: Any) -> None:
    p = _policy(response)
    assert p["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in p["script-src"] and "'unsafe-eval'" not in p["script-src"]
    assert p["style-src"] == ["'self'"]
    assert p["connect-src"] == ["'self'"]
    assert p["object-src"] == ["'none'"] and p["frame-ancestors"] == ["'none'"]


def test_it_sends_the_policy_on_every_page(client: Any, viewer: Any) -> None:
    for path in ("/login/", "/admin/login/", "/no-such-page/"):
        _check(client.get(path))
    client.force_login(viewer)
    for path in ("/", "/table/", "/?view=graph"):
        response = client.get(path)
        assert response.status_code == 200, path
        _check(response)
    admin = User.objects.create_superuser("csp-admin", password="x" * 20)
    client.force_login(admin)
    for path in ("/admin/", "/admin/auth/user/"):
        response = client.get(path)
        assert response.status_code == 200, path
        _check(response)


def test_it_finds_no_inline_script_handler_or_style_in_the_templates() -> None:
    inline = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>|\son[a-z]+=|\sstyle=", re.I)
    found = [
        f"{path.relative_to(TEMPLATES)}: {m.group(0).strip()}"
        for path in TEMPLATES.rglob("*.html")
        for m in inline.finditer(path.read_text())
    ]
    assert not found, f"inline code the policy would block: {found}"
