"""Read-only admin views of the observed state (only agents change it)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from webui.topology.models import Interface, Namespace, Node


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Node)
class NodeAdmin(ReadOnly):
    list_display = ("name", "state", "last_heartbeat", "run", "last_seq", "synced")
    exclude = ("key",)  # the signing key is never shown


@admin.register(Namespace)
class NamespaceAdmin(ReadOnly):
    list_display = ("node", "key", "kind", "label", "container_id", "changed")
    list_filter = ("node", "kind")
    search_fields = ("key", "label", "container_id")


@admin.register(Interface)
class InterfaceAdmin(ReadOnly):
    list_display = ("node", "key", "name", "kind", "operstate", "mac", "peer_key", "changed")
    list_filter = ("node", "kind", "operstate")
    search_fields = ("key", "name", "mac")
    raw_id_fields = ("namespace", "peer", "master")
