"""REST, read-only: /api/v1/topology/ (now, or ``?at=`` a past moment) and /api/v1/nodes/
(docs/CONTRACTS.md). No anonymous access.

Both answer with plain dicts (webui.topology.queries): the graph has thousands of rows, and a
serializer per row would cost more than the query. The serializers of webui.topology.schema
only describe them.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from webui.changelog.api import moment
from webui.changelog.timetravel import BeforeHistory, graph_at
from webui.rest import ApiView, errors
from webui.topology.liveness import mark_stale
from webui.topology.queries import load_graph, node_summaries
from webui.topology.schema import GraphSerializer, NodeListSerializer


class TopologyView(ApiView):
    @extend_schema(
        summary="The whole graph, now or at a past moment",
        description="The same graph as the WebSocket's first message, with the patch number it reflects. "
        "With `at`, the graph as it was then, rebuilt from the change log (checkpoints plus replay).",
        parameters=[
            OpenApiParameter("at", OpenApiTypes.DATETIME, description="ISO 8601: the graph as it was at this moment")
        ],
        responses={200: GraphSerializer, **errors(400)},
    )
    def get(self, request: Request) -> Response:
        if request.query_params.get("at"):  # empty: as if left out (webui.rest.empty_means_absent)
            try:
                return Response(graph_at(moment(request.query_params, "at")))
            except BeforeHistory as exc:
                raise ValidationError({"at": [str(exc)]}) from None
        mark_stale()
        return Response(load_graph())


class NodesView(ApiView):
    @extend_schema(
        summary="The hosts",
        description="Each host's state, last heartbeat, run id, last seq and counts (never its key).",
        responses={200: NodeListSerializer, **errors()},
    )
    def get(self, request: Request) -> Response:
        mark_stale()
        results = node_summaries()
        return Response({"count": len(results), "results": results})
