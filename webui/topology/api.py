"""REST, read-only: /api/v1/topology/ and /api/v1/nodes/ (docs/CONTRACTS.md). No anonymous access.

Both answer with plain dicts (webui.topology.queries): the graph has thousands of rows, and a
serializer per row would cost more than the query. The serializers of webui.topology.schema
only describe them.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from webui.rest import ApiView, errors
from webui.topology.liveness import mark_stale
from webui.topology.queries import load_graph, node_summaries
from webui.topology.schema import GraphSerializer, NodeListSerializer


class TopologyView(ApiView):
    @extend_schema(
        summary="The whole graph",
        description="The same graph as the WebSocket's first message, with the patch number it reflects.",
        responses={200: GraphSerializer, **errors()},
    )
    def get(self, request: Request) -> Response:
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
