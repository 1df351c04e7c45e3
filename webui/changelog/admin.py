"""The change log in the admin: read-only (it is append-only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from webui.changelog.models import ChangeRecord


@admin.register(ChangeRecord)
class ChangeRecordAdmin(admin.ModelAdmin):
    list_display = ("time", "node", "object_kind", "action", "name", "object_key", "actor", "graph_seq")
    list_filter = ("node", "object_kind", "action")
    search_fields = ("object_id", "object_key", "name", "request_id")
    date_hierarchy = "time"

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
