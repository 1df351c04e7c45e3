"""REST /api/v1/changes/: the change log, newest first, paged (webui.rest.PinnedPagination) and
filtered (``ChangeFilter``). A bad or unknown parameter is a 400 with a reason, never a 500.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers

from webui.changelog.models import Action, ChangeRecord, ObjectKind
from webui.rest import ApiListView, errors
from webui.topology.graph import iso

EXAMPLE_TIME = "2026-11-29T14:02:00Z"


class IsoTimeField(forms.Field):
    """ISO 8601; a time without zone is UTC; one that is not a real instant in UTC (year 0 or
    10000 once the offset is applied) is refused rather than crashing the query. The value goes
    into the message as a parameter: django-filter applies ``%`` to every message."""

    def to_python(self, value: Any) -> datetime | None:
        if value in (None, ""):
            return None
        raw = str(value).strip()
        text = raw.replace(" ", "+") if "T" in raw else raw  # '+' arrives as ' ' in a query
        try:
            parsed = parse_datetime(text.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is None:
            raise forms.ValidationError(
                f"%(value)r is not an ISO 8601 date-time (e.g. {EXAMPLE_TIME})", params={"value": raw}
            )
        try:
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except OverflowError:
            raise forms.ValidationError("%(value)r is outside the years 1-9999 in UTC", params={"value": raw}) from None


class TimeFilter(django_filters.IsoDateTimeFilter):
    field_class = IsoTimeField


class ChangeFilterForm(forms.Form):
    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("since", "is after until")
        return data


def text_filter(max_length: int, help_text: str, **kwargs: Any) -> django_filters.CharFilter:
    """A CharFilter whose limits are in the schema too: the column's length, and no NUL (Django's
    form fields refuse it; PostgreSQL cannot store it)."""
    schema = {"type": "string", "maxLength": max_length, "pattern": "^[^\\x00]*$", "description": help_text}
    return extend_schema_field(schema)(django_filters.CharFilter(max_length=max_length, **kwargs))


def choice_filter(choices: list[tuple[str, str]], **kwargs: Any) -> django_filters.ChoiceFilter:
    """A ChoiceFilter whose refusal names the choices."""
    known = ", ".join(value for value, _ in choices)
    invalid = {"invalid_choice": f"%(value)s is not one of: {known}"}
    return django_filters.ChoiceFilter(choices=choices, error_messages=invalid, **kwargs)


class ChangeFilter(django_filters.FilterSet):
    node = text_filter(63, "node name")
    kind = choice_filter(ObjectKind.choices, field_name="object_kind", help_text="object kind")
    key = text_filter(140, 'an object id "<node>/<key>" or a bare key ("if:...")', method="filter_key")
    action = choice_filter(Action.choices)
    actor = text_filter(160, '"agent:<node>" or "user:<username>"')
    request_id = text_filter(64, "the command that caused it")
    since = TimeFilter(field_name="time", lookup_expr="gte", help_text=f"ISO 8601, from (e.g. {EXAMPLE_TIME})")
    until = TimeFilter(field_name="time", lookup_expr="lte", help_text="ISO 8601, up to; a time without zone is UTC")

    class Meta:
        model = ChangeRecord
        fields: list[str] = []
        form = ChangeFilterForm

    def filter_key(self, rows: QuerySet[ChangeRecord], name: str, value: str) -> QuerySet[ChangeRecord]:
        return rows.filter(Q(object_id=value) | Q(object_key=value))


class IsoTimeOutput(serializers.DateTimeField):
    """UTC with a Z and milliseconds, as the graph JSON writes times (webui.topology.graph.iso)."""

    def to_representation(self, value: datetime) -> str:
        return iso(value) or ""  # DRF writes a None itself, without calling this


@extend_schema_field(
    {
        "type": "object",
        "nullable": True,
        "additionalProperties": True,
        "description": "the object as the agent reported it (agent/protocol.py); null when added/removed",
    }
)
class ProtocolRecordField(serializers.JSONField):
    pass


class ChangeRecordSerializer(serializers.ModelSerializer[ChangeRecord]):
    time = IsoTimeOutput(help_text="when the server applied it (UTC)")
    before = ProtocolRecordField()
    after = ProtocolRecordField()

    class Meta:
        model = ChangeRecord
        fields = [
            "id",
            "time",
            "node",
            "object_kind",
            "object_key",
            "object_id",
            "name",
            "action",
            "before",
            "after",
            "actor",
            "request_id",
            "run",
            "seq",
            "position",
            "graph_seq",
            "observed",
        ]
        read_only_fields = fields


@extend_schema(
    summary="The change log",
    description="Newest first. The first page pins the newest record into `next`/`previous` (`upto`).",
    responses={200: ChangeRecordSerializer(many=True), **errors(400)},
)
class ChangesView(ApiListView):
    queryset = ChangeRecord.objects.order_by("-graph_seq", "-position", "-id")
    serializer_class = ChangeRecordSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ChangeFilter
