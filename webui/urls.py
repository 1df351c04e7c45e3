"""URL routes: the REST API (Django REST framework, webui.rest) and its schema here, the pages
from webui.dashboard."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from webui.changelog.api import ActivityView, ChangesExportView, ChangesView, DiffView
from webui.commands import api as commands_api
from webui.topology.api import NodesView, TopologyView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/topology/", TopologyView.as_view(), name="api-topology"),
    path("api/v1/nodes/", NodesView.as_view(), name="api-nodes"),
    path("api/v1/changes/", ChangesView.as_view(), name="api-changes"),
    path("api/v1/changes/export/", ChangesExportView.as_view(), name="api-changes-export"),
    path("api/v1/changes/activity/", ActivityView.as_view(), name="api-changes-activity"),
    path("api/v1/diff/", DiffView.as_view(), name="api-diff"),
    path("api/v1/commands/", commands_api.CommandList.as_view(), name="api-commands"),
    path("api/v1/commands/<uuid:pk>/", commands_api.CommandDetail.as_view(), name="api-command"),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # a page for people: anonymous visitors go to the sign-in page, like the dashboard
    path("api/v1/docs/", login_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema")), name="api-docs"),
    path("", include("webui.dashboard.urls")),
]
