"""URL routes: the REST API here, the pages from webui.dashboard."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from webui.changelog import api as changelog_api
from webui.commands import api as commands_api
from webui.topology import api as topology_api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/topology/", topology_api.topology, name="api-topology"),
    path("api/v1/nodes/", topology_api.nodes, name="api-nodes"),
    path("api/v1/changes/", changelog_api.changes, name="api-changes"),
    path("api/v1/commands/", commands_api.CommandList.as_view(), name="api-commands"),
    path("api/v1/commands/<uuid:pk>/", commands_api.CommandDetail.as_view(), name="api-command"),
    path("", include("webui.dashboard.urls")),
]
