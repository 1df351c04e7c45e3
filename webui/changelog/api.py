"""REST for the change log: /api/v1/changes/ (newest first, paged by webui.rest.PinnedPagination,
filtered by ``ChangeFilter``), its streamed export, its activity per host, and /api/v1/diff/
between two moments. A bad or unknown parameter is a 400 with a reason, never a 500.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django.db import connection
from django.db.models import Count, Min, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from webui.changelog.models import Action, ChangeRecord, ObjectKind
from webui.changelog.replay import FIELD_GROUPS
from webui.changelog.timetravel import BeforeHistory, diff_between
from webui.rest import ApiListView, ApiView, errors, refuse_unknown
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


FIELD_CHOICES = [(group, group) for group in FIELD_GROUPS]
ACTOR_KINDS = ("user", "agent", "server")
MATCHED_NAMESPACES = 200  # a namespace filter by name looks at most at this many namespaces


class ChangeFilter(django_filters.FilterSet):
    node = text_filter(63, "node (host) name")
    kind = choice_filter(ObjectKind.choices, field_name="object_kind", help_text="object kind")
    key = text_filter(140, 'an object id "<node>/<key>" or a bare key ("if:...")', method="filter_key")
    namespace = text_filter(
        255, "a namespace by name, key or id: its own records and its interfaces'", method="filter_namespace"
    )
    interface = text_filter(64, 'an interface by name ("eth0"), key or id', method="filter_interface")
    action = choice_filter(Action.choices)
    field = choice_filter(FIELD_CHOICES, method="filter_field", help_text="changes of this field group")
    actor = text_filter(
        160, '"user" (any command), "agent" (observed on the host), "server", or one actor ("user:alice")',
        method="filter_actor",
    )  # fmt: skip
    request_id = text_filter(64, "the command that caused it")
    since = TimeFilter(field_name="time", lookup_expr="gte", help_text=f"ISO 8601, from (e.g. {EXAMPLE_TIME})")
    until = TimeFilter(field_name="time", lookup_expr="lte", help_text="ISO 8601, up to; a time without zone is UTC")

    class Meta:
        model = ChangeRecord
        fields: list[str] = []
        form = ChangeFilterForm

    def filter_key(self, rows: QuerySet[ChangeRecord], name: str, value: str) -> QuerySet[ChangeRecord]:
        return rows.filter(Q(object_id=value) | Q(object_key=value))

    def filter_namespace(self, rows: QuerySet[ChangeRecord], name: str, value: str) -> QuerySet[ChangeRecord]:
        """The namespace's records and its interfaces' ("if:<inode>:..." on the same node)."""
        own = Q(object_id=value) | Q(object_key=value) | Q(name=value)
        namespaces = (
            ChangeRecord.objects.filter(own, object_kind=ObjectKind.NAMESPACE)
            .values_list("node", "object_key")
            .distinct()[:MATCHED_NAMESPACES]
        )
        match = Q(object_kind=ObjectKind.NAMESPACE) & own
        for node, key in namespaces:
            inode = key.removeprefix("ns:")
            match |= Q(node=node, object_key__startswith=f"if:{inode}:")
        return rows.filter(match)

    def filter_interface(self, rows: QuerySet[ChangeRecord], name: str, value: str) -> QuerySet[ChangeRecord]:
        """By name: the record's name is "eth0" or "eth0@if<peer>" (webui.topology.records.display_name)."""
        named = Q(name=value) | Q(name__startswith=f"{value}@")
        return rows.filter(named | Q(object_id=value) | Q(object_key=value), object_kind=ObjectKind.INTERFACE)

    def filter_field(self, rows: QuerySet[ChangeRecord], name: str, value: str) -> QuerySet[ChangeRecord]:
        return rows.filter(fields__contains=f",{value},")

    def filter_actor(self, rows: QuerySet[ChangeRecord], name: str, value: str) -> QuerySet[ChangeRecord]:
        if value in ACTOR_KINDS:
            return rows.filter(actor__startswith=f"{value}:") if value != "server" else rows.filter(actor=value)
        return rows.filter(actor=value)


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
    changed_fields = serializers.SerializerMethodField(help_text="what a changed record changed (field groups)")

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=FIELD_CHOICES)))
    def get_changed_fields(self, record: ChangeRecord) -> list[str]:
        return _groups(record.fields)

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
            "changed_fields",
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
    queryset = ChangeRecord.objects.all()  # newest first (Meta.ordering)
    serializer_class = ChangeRecordSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ChangeFilter


# -- exports, activity, time travel ---------------------------------------------------------------

EXPORT_COLUMNS = ("id", "time", "node", "object_kind", "object_id", "name", "action", "fields", "actor", "request_id")
EXPORT_CHUNK = 2000


class ExportQuery(serializers.Serializer[Any]):
    output = serializers.ChoiceField(choices=[("csv", "csv"), ("json", "json")], default="csv")


def _groups(fields: str) -> list[str]:
    return [group for group in fields.split(",") if group]


def _cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: names come from agents and users, and one that
    starts like a formula (=, +, -, @, tab, CR) would run as one (OWASP: CSV injection)."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _export_rows(rows: QuerySet[ChangeRecord], output: str) -> Iterator[str]:
    """The filtered records, newest first, written as they are read (never built in memory). JSON
    items have the shape of the API's records (ChangeRecordSerializer)."""
    columns = [name for name in ChangeRecordSerializer.Meta.fields if name != "changed_fields"]
    records = rows.values(*columns, "fields").iterator(chunk_size=EXPORT_CHUNK)
    if output == "json":
        yield "["
        for n, record in enumerate(records):
            record["time"] = iso(record["time"])
            record["changed_fields"] = _groups(record.pop("fields"))
            yield ("," if n else "") + json.dumps(record, separators=(",", ":"))
        yield "]\n"
        return
    buffer = io.StringIO()
    out = csv.writer(buffer)
    out.writerow([*EXPORT_COLUMNS, "before", "after"])
    for n, record in enumerate(records, start=1):
        record["time"] = iso(record["time"])
        record["fields"] = " ".join(_groups(record["fields"]))
        before, after = (
            json.dumps(record[k], separators=(",", ":")) if record[k] is not None else "" for k in ("before", "after")
        )
        out.writerow([_cell(record[c]) for c in EXPORT_COLUMNS] + [before, after])
        if n % 200 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@extend_schema(
    summary="The change log as CSV or JSON",
    description="Every record the filters match, newest first, streamed (no paging).",
    parameters=[ExportQuery],
    responses={
        (200, "text/csv"): OpenApiTypes.STR,
        (200, "application/json"): ChangeRecordSerializer(many=True),
        **errors(400),
    },
)
class ChangesExportView(ApiView):
    def get(self, request: Request) -> StreamingHttpResponse:
        params = request.query_params
        options, filtered = _filters_and(params, ExportQuery)
        output = options["output"]
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        response = StreamingHttpResponse(
            _export_rows(filtered.qs, output), content_type="text/csv" if output == "csv" else "application/json"
        )
        response["Content-Disposition"] = f'attachment; filename="nsmap-changes-{stamp}.{output}"'
        return response


def _filters_and(params: Any, options: type[serializers.Serializer[Any]]) -> tuple[dict[str, Any], ChangeFilter]:
    """The change-log filters plus a view's own options (an empty value is one left out), each
    checked: an unknown, repeated or bad parameter is a 400 naming it. Records newest first."""
    own = set(options().fields)
    query = options(data={k: v for k, v in params.items() if k in own and v})
    query.is_valid(raise_exception=True)
    refuse_unknown(params, {*ChangeFilter.base_filters, *own})
    filtered = ChangeFilter(params, queryset=ChangeRecord.objects.all())
    if not filtered.is_valid():
        raise ValidationError(filtered.errors)
    return dict(query.validated_data), filtered


class ActivityQuery(serializers.Serializer[Any]):
    buckets = serializers.IntegerField(min_value=1, max_value=500, default=60, help_text="bars per host")


class BucketSerializer(serializers.Serializer[Any]):
    start = IsoTimeOutput()
    end = IsoTimeOutput()


class HostActivitySerializer(serializers.Serializer[Any]):
    host = serializers.CharField()
    counts = serializers.ListField(child=serializers.IntegerField(), help_text="records per bucket")


class ActivitySerializer(serializers.Serializer[Any]):
    buckets = BucketSerializer(many=True)
    hosts = HostActivitySerializer(many=True)


@extend_schema(
    summary="Change activity per host over time",
    description="How many records the filters match per host and time bucket (so bursts stand out); "
    "the range is since..until, or the first matching record..now.",
    parameters=[ActivityQuery],
    responses={200: ActivitySerializer, **errors(400)},
)
class ActivityView(ApiView):
    def get(self, request: Request) -> Response:
        params = request.query_params
        options, filtered = _filters_and(params, ActivityQuery)
        rows = filtered.qs.order_by()
        start = filtered.form.cleaned_data.get("since") or rows.aggregate(first=Min("time"))["first"]
        end = filtered.form.cleaned_data.get("until") or timezone.now()
        if start is None or start >= end:
            return Response({"buckets": [], "hosts": []})
        return Response(activity(rows, start, end, options["buckets"]))


def activity(rows: QuerySet[ChangeRecord], start: datetime, end: datetime, buckets: int) -> dict[str, Any]:
    """Counts per (host, bucket), computed in the database: the records are never read."""
    width = (end - start) / buckets
    seconds = max(width.total_seconds(), 0.001)
    if connection.vendor == "postgresql":
        in_bucket = RawSQL("floor(extract(epoch from (time - %s)) / %s)", (start, seconds))
    else:  # SQLite stores times as text
        in_bucket = RawSQL("cast((julianday(time) - julianday(%s)) * 86400.0 / %s as integer)", (start, seconds))
    counted = (
        rows.filter(time__gte=start, time__lte=end)
        .annotate(slot=in_bucket)
        .values("node", "slot")
        .annotate(n=Count("id"))
    )
    hosts: dict[str, list[int]] = {}
    for row in counted:
        slot = min(max(int(row["slot"]), 0), buckets - 1)
        hosts.setdefault(row["node"], [0] * buckets)[slot] += row["n"]
    edges = [start + width * i for i in range(buckets + 1)]
    return {
        "buckets": [{"start": iso(edges[i]), "end": iso(edges[i + 1])} for i in range(buckets)],
        "hosts": [{"host": host, "counts": hosts[host]} for host in sorted(hosts)],
    }


def moment(params: Any, name: str) -> datetime:
    """An ISO 8601 query parameter as an aware datetime, or a 400 naming it."""
    try:
        value = IsoTimeField().clean(params.get(name))
    except forms.ValidationError as exc:
        raise ValidationError({name: exc.messages}) from None
    if value is None:
        raise ValidationError({name: ["required: an ISO 8601 date-time"]})
    return value


class DiffEntrySerializer(serializers.Serializer[Any]):
    id = serializers.CharField(help_text='"<node>/<key>", or the node name for a host')
    kind = serializers.ChoiceField(choices=ObjectKind.choices)
    name = serializers.CharField()


class DiffChangeSerializer(DiffEntrySerializer):
    fields = serializers.DictField(  # type: ignore[assignment]  # the JSON key is the contract
        child=serializers.ListField(min_length=2, max_length=2, child=serializers.JSONField()),
        help_text="each field that differs: [before, after]",
    )


class DiffSerializer(serializers.Serializer[Any]):
    added = DiffEntrySerializer(many=True)
    removed = DiffEntrySerializer(many=True)
    changed = DiffChangeSerializer(many=True)


@extend_schema(
    summary="What changed between two moments",
    description="Objects added, removed, and each changed field as [before, after], from the change log "
    "(checkpoints plus replay, webui/changelog/timetravel.py).",
    parameters=[
        OpenApiParameter("from", OpenApiTypes.DATETIME, required=True, description="the earlier moment"),
        OpenApiParameter("to", OpenApiTypes.DATETIME, required=True, description="the later moment"),
        OpenApiParameter("node", OpenApiTypes.STR, description="only this node (host)"),
    ],
    responses={200: DiffSerializer, **errors(400)},
)
class DiffView(ApiView):
    def get(self, request: Request) -> Response:
        params = request.query_params
        refuse_unknown(params, {"from", "to", "node", "format"})
        start, end = moment(params, "from"), moment(params, "to")
        if start > end:
            raise ValidationError({"from": ["is after to"]})
        node = params.get("node")
        try:
            return Response(diff_between(start, end, [node] if node else None))
        except BeforeHistory as exc:  # the earlier moment is the one before the retained history
            raise ValidationError({"from": [str(exc)]}) from None
