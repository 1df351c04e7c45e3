"""REST, read-only: /api/v1/topology/ and /api/v1/nodes/ (docs/CONTRACTS.md). No anonymous access."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from webui.accounts.auth import api_login_required
from webui.topology.liveness import mark_stale
from webui.topology.queries import load_graph, node_summaries


@require_GET
@api_login_required
def topology(request: HttpRequest) -> JsonResponse:
    """The graph JSON (the same as the WebSocket's first message)."""
    mark_stale()
    return JsonResponse(load_graph())


@require_GET
@api_login_required
def nodes(request: HttpRequest) -> JsonResponse:
    """Hosts with state, last heartbeat, run id, last seq and counts."""
    mark_stale()
    results = node_summaries()
    return JsonResponse({"count": len(results), "results": results})
