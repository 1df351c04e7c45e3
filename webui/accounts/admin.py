"""API tokens in the admin: listed and revocable, never readable (only a hash is stored)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from webui.accounts.models import Token


@admin.register(Token)
class TokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created", "last_used")
    exclude = ("key_hash",)
    readonly_fields = ("prefix", "user", "created", "last_used")

    def has_add_permission(self, request: Any) -> bool:
        return False  # `manage.py nsmap_token USER` issues tokens
