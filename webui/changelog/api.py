"""REST /api/v1/changes/: the change log, newest first, paged and filterable.

Filters: node, kind, key (an object id "<node>/<key>" or a bare key), action, actor, request_id,
since, until (ISO 8601; a time without zone is UTC). Paging: page (1...), page_size (1-5000,
default 100). The first page pins the newest record (``upto``) into the next/previous links, so
records arriving while a client pages do not shift the pages it has not read yet.
A bad filter value is a 400 with a message, never a 500.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.http import HttpRequest, JsonResponse
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET

from webui.accounts.auth import api_login_required
from webui.changelog.models import Action, ChangeRecord, ObjectKind
from webui.topology.graph import iso

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 5000
FILTERS = ("node", "kind", "key", "action", "actor", "request_id", "since", "until")
KNOWN = {*FILTERS, "page", "page_size", "upto", "format"}


class BadRequest(ValueError):
    pass


def _int(params: Any, name: str, default: int, low: int, high: int | None = None) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name}={raw!r} is not an integer") from None
    if value < low or (high is not None and value > high):
        raise BadRequest(f"{name}={raw!r} must be between {low} and {high}" if high else f"{name} must be >= {low}")
    return value


def _time(params: Any, name: str) -> datetime | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    text = raw.strip().replace(" ", "+") if "T" in raw else raw.strip()  # '+' arrives as ' ' in a query
    try:
        value = parse_datetime(text.replace("Z", "+00:00"))
    except ValueError:
        value = None
    if value is None:
        raise BadRequest(f"{name}={raw!r} is not an ISO 8601 date-time (e.g. 2026-11-29T14:02:00Z)")
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def filtered(params: Any) -> QuerySet[ChangeRecord]:
    """The records matching the query parameters (raises BadRequest with a reason)."""
    unknown = sorted(set(params.keys()) - KNOWN)
    if unknown:
        raise BadRequest(f"unknown parameter(s) {', '.join(unknown)}; filters: {', '.join(FILTERS)}")
    rows = ChangeRecord.objects.all()
    if node := params.get("node"):
        rows = rows.filter(node=node)
    if kind := params.get("kind"):
        if kind not in ObjectKind.values:
            raise BadRequest(f"kind={kind!r}: one of {', '.join(ObjectKind.values)}")
        rows = rows.filter(object_kind=kind)
    if key := params.get("key"):
        rows = rows.filter(Q(object_id=key) | Q(object_key=key))
    if action := params.get("action"):
        if action not in Action.values:
            raise BadRequest(f"action={action!r}: one of {', '.join(Action.values)}")
        rows = rows.filter(action=action)
    if actor := params.get("actor"):
        rows = rows.filter(actor=actor)
    if request_id := params.get("request_id"):
        rows = rows.filter(request_id=request_id)
    since, until = _time(params, "since"), _time(params, "until")
    if since and until and since > until:
        raise BadRequest("since is after until")
    if since:
        rows = rows.filter(time__gte=since)
    if until:
        rows = rows.filter(time__lte=until)
    return rows


def record_json(r: ChangeRecord) -> dict[str, Any]:
    return {
        "id": r.id,
        "time": iso(r.time),
        "node": r.node,
        "object_kind": r.object_kind,
        "object_key": r.object_key,
        "object_id": r.object_id,
        "name": r.name,
        "action": r.action,
        "before": r.before,
        "after": r.after,
        "actor": r.actor,
        "request_id": r.request_id,
        "run": r.run,
        "seq": r.seq,
        "position": r.position,
        "graph_seq": r.graph_seq,
        "observed": r.observed,
    }


@require_GET
@api_login_required
def changes(request: HttpRequest) -> JsonResponse:
    params = request.GET
    try:
        rows = filtered(params)
        page = _int(params, "page", 1, 1)
        size = _int(params, "page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        upto = _int(params, "upto", 0, 0)
    except BadRequest as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    if not upto:
        upto = ChangeRecord.objects.order_by("-id").values_list("id", flat=True).first() or 0
    rows = rows.filter(id__lte=upto)
    count = rows.count()
    start = (page - 1) * size
    results = [record_json(r) for r in rows.order_by("-graph_seq", "-position", "-id")[start : start + size]]

    def link(number: int) -> str:
        query = {k: v for k, v in params.items() if k not in ("page", "upto")}
        query.update({"page": str(number), "upto": str(upto)})
        return request.build_absolute_uri(request.path + "?" + urlencode(query))

    return JsonResponse(
        {
            "count": count,
            "next": link(page + 1) if start + size < count else None,
            "previous": link(page - 1) if page > 1 else None,
            "results": results,
        }
    )
