"""What every REST view shares (settings.REST_FRAMEWORK points here): JSON only, errors as
``{"error": reason}``, ``Cache-Control: no-store``, gzip when the client accepts it, and the
pinned paging of the change log.

A new endpoint subclasses ``ApiView`` (or ``ApiListView`` for a paged, filtered query set) and
documents its answers with ``extend_schema(responses={200: ..., **errors(400)})``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import Http404
from django.views.decorators.gzip import gzip_page
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.generics import ListAPIView
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import BasePagination
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

if TYPE_CHECKING:
    from rest_framework.views import AsView, GenericView

SIGN_IN = "authentication required: sign in or send Authorization: Bearer TOKEN"
BIGINT_MAX = 2**63 - 1  # the largest id or seq the database stores


class ErrorSerializer(serializers.Serializer[Any]):
    """The body of every 4xx answer."""

    error = serializers.CharField(help_text="what was wrong, for a person to read")
    # a declared field (SerializerMetaclass moves it into .fields); the JSON key is the contract
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="for a 400: each bad query parameter with its reasons",
    )


_ERRORS = {
    400: "a query parameter or a field of the body is unknown or has a bad value",
    401: "no session and no valid Authorization: Bearer TOKEN",
    403: "signed in, but the role does not allow it (or a session without its CSRF token)",
    404: "no such object",
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """Schema entries for the error answers of an operation (401 always)."""
    return {code: OpenApiResponse(ErrorSerializer, description=_ERRORS[code]) for code in sorted({401, *codes})}


def _reason(detail: Any) -> str:
    if isinstance(detail, dict):
        return "; ".join(f"{name}: {_reason(value)}" for name, value in detail.items())
    if isinstance(detail, list):
        return " ".join(_reason(item) for item in detail)
    return str(detail)


def handle_exception(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler with the project's error body: ``{"error": reason}`` (and ``fields``)."""
    response = exception_handler(exc, context)
    if response is None:
        return None
    detail = SIGN_IN if isinstance(exc, exceptions.NotAuthenticated) else response.data
    body: dict[str, Any] = {"error": _reason(detail.get("detail", detail) if isinstance(detail, dict) else detail)}
    if isinstance(exc, exceptions.ValidationError) and isinstance(detail, dict):
        body["fields"] = {name: [str(m) for m in (v if isinstance(v, list) else [v])] for name, v in detail.items()}
    response.data = body
    return response


def empty_means_absent(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: every optional query parameter of this API takes ``name=``
    as if it were left out (django-filter skips empty filters; a paging field falls back to its
    default), so the schema says so (``allowEmptyValue``)."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
    return result


class JsonOnlyNegotiation(DefaultContentNegotiation):
    """JSON whatever the Accept header says (as before DRF): no 406 for ``Accept: text/html``;
    ``?format=`` anything but json is a 400 with a reason."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderers = list(renderers)
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except exceptions.NotAcceptable:
            return renderers[0], renderers[0].media_type
        except Http404:  # DRF's answer to a format no renderer has
            formats = ", ".join(r.format for r in renderers)
            raise exceptions.ValidationError({"format": [f"the only format is {formats}"]}) from None


class ApiView(APIView):
    """Answers carry ``Cache-Control: no-store`` (live data, read with a token: no cache keeps a
    copy) and are gzipped for clients that accept it. Compressing is safe here (BREACH): API
    JSON carries no CSRF token or other secret next to what a client controls."""

    content_negotiation_class = JsonOnlyNegotiation
    # no OPTIONS: DRF's metadata answer describes nothing the schema does not, and Allow stays true
    http_method_names = [m for m in APIView.http_method_names if m != "options"]

    @classmethod
    def as_view(cls, **initkwargs: Any) -> AsView[GenericView]:
        return gzip_page(super().as_view(**initkwargs))

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response


class _PageQuery(serializers.Serializer[Any]):
    page = serializers.IntegerField(min_value=1, max_value=2**31 - 1, default=1)
    upto = serializers.IntegerField(min_value=0, max_value=BIGINT_MAX, default=0)
    count = serializers.BooleanField(default=True)

    def __init__(self, *args: Any, max_page_size: int, default_page_size: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["page_size"] = serializers.IntegerField(
            min_value=1, max_value=max_page_size, default=default_page_size
        )


class PinnedPagination(BasePagination):
    """``{"count", "next", "previous", "results"}``, ``page`` from 1, newest first. The first page
    pins the newest id (``upto``) into the links, so records that arrive while a client pages do
    not shift the pages it has not read yet. A page past the last one is empty, not an error."""

    default_page_size = 100
    max_page_size = 5000
    query_params = ("page", "page_size", "upto", "count")

    def paginate_queryset(
        self, queryset: QuerySet[Any] | Sequence[Any], request: Request, view: APIView | None = None
    ) -> list[Any]:
        if not isinstance(queryset, QuerySet):
            raise TypeError("PinnedPagination pages a query set (it pins ids with a filter)")
        query = _PageQuery(
            data=request.query_params, max_page_size=self.max_page_size, default_page_size=self.default_page_size
        )
        query.is_valid(raise_exception=True)
        page, size, upto = query.validated_data["page"], query.validated_data["page_size"], query.validated_data["upto"]
        if not upto:
            upto = queryset.model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        rows = queryset.filter(pk__lte=upto)
        self.request, self.page, self.size, self.upto = request, page, size, upto
        start = (page - 1) * size
        if not query.validated_data["count"]:  # a first page at once, however large the table
            found = list(rows[start : start + size + 1])
            self.count, self.more = None, len(found) > size
            return found[:size]
        self.count = rows.count()
        self.more = page * size < self.count
        return list(rows[start : start + size]) if start < self.count else []

    def _link(self, number: int) -> str:
        query = {k: v for k, v in self.request.query_params.items() if k not in ("page", "upto")}
        query.update({"page": str(number), "upto": str(self.upto)})
        return self.request.build_absolute_uri(self.request.path + "?" + urlencode(query))

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            {
                "count": self.count,
                "next": self._link(self.page + 1) if self.more else None,
                "previous": self._link(self.page - 1) if self.page > 1 else None,
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "required": ["count", "next", "previous", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "nullable": True,
                    "description": "records matching the filters, up to `upto`; null with `count=false`",
                },
                "next": {**link, "description": "the next page (same filters and `upto`); null on the last"},
                "previous": {**link, "description": "the previous page; null on the first"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        def param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
            return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}

        return [
            param("page", {"type": "integer", "minimum": 1, "maximum": 2**31 - 1, "default": 1}, "page number"),
            param(
                "page_size",
                {"type": "integer", "minimum": 1, "maximum": self.max_page_size, "default": self.default_page_size},
                "records per page",
            ),
            param(
                "upto",
                {"type": "integer", "format": "int64", "minimum": 0, "maximum": BIGINT_MAX, "default": 0},
                "only records with an id up to this (0: the newest now); the links carry it",
            ),
            param(
                "count",
                {"type": "boolean", "default": True},
                "false: no count (null), so a first page costs the same however large the table",
            ),
        ]


class _OffsetQuery(serializers.Serializer[Any]):
    offset = serializers.IntegerField(min_value=0, max_value=2**31 - 1, default=0)
    limit = serializers.IntegerField(min_value=1, max_value=1000, default=100)


class OffsetPagination(BasePagination):
    """``{"count", "next", "previous", "results"}`` by ``offset``/``limit``, for lists whose ids
    are not increasing integers (PinnedPagination pins those): the order is the query set's."""

    query_params = ("offset", "limit")

    def paginate_queryset(
        self, queryset: QuerySet[Any] | Sequence[Any], request: Request, view: APIView | None = None
    ) -> list[Any]:
        query = _OffsetQuery(data={k: v for k, v in request.query_params.items() if k in self.query_params and v})
        query.is_valid(raise_exception=True)
        self.request, self.offset, self.limit = request, query.validated_data["offset"], query.validated_data["limit"]
        self.count = queryset.count() if isinstance(queryset, QuerySet) else len(queryset)
        return list(queryset[self.offset : self.offset + self.limit])

    def _link(self, offset: int) -> str:
        query = {k: v for k, v in self.request.query_params.items() if k != "offset"}
        query.update({"offset": str(offset), "limit": str(self.limit)})
        return self.request.build_absolute_uri(self.request.path + "?" + urlencode(query))

    def get_paginated_response(self, data: Any) -> Response:
        more = self.offset + self.limit < self.count
        back = self.offset > 0
        return Response(
            {
                "count": self.count,
                "next": self._link(self.offset + self.limit) if more else None,
                "previous": self._link(max(0, self.offset - self.limit)) if back else None,
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "required": ["count", "next", "previous", "results"],
            "properties": {"count": {"type": "integer"}, "next": link, "previous": link, "results": schema},
        }

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        return [
            {"name": "offset", "in": "query", "required": False, "description": "records to skip",
             "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1, "default": 0}},
            {"name": "limit", "in": "query", "required": False, "description": "records per page",
             "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}},
        ]  # fmt: skip


def refuse_unknown(params: Any, known: set[str]) -> None:
    """A 400 naming every parameter that is unknown (a typo in a filter name would otherwise
    return everything) or given more than once (which value counts would be a guess)."""
    problems = {name: [f"unknown parameter; known: {', '.join(sorted(known))}"] for name in params if name not in known}
    problems |= {name: ["given more than once"] for name in params if len(params.getlist(name)) > 1}
    if problems:
        raise exceptions.ValidationError(dict(sorted(problems.items())))


class ApiListView(ApiView, ListAPIView[Any]):
    """A paged list whose query parameters are all known and given once: an unknown one is a 400
    (a typo in a filter name would otherwise return everything), and so is a repeated one (which
    value counts would be a guess)."""

    pagination_class: type[BasePagination] | None = PinnedPagination
    filterset_class: Any = None  # a django_filters.FilterSet (DjangoFilterBackend reads it)

    def known_params(self) -> set[str]:
        known: set[str] = {"format"}
        if self.filterset_class is not None:
            known |= set(self.filterset_class.base_filters)
        known |= set(getattr(self.paginator, "query_params", ()))
        return known

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        refuse_unknown(request.query_params, self.known_params())
        return super().list(request, *args, **kwargs)
