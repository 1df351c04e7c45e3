"""REST: POST/GET /api/v1/commands/ and GET /api/v1/commands/<id>/ (webui.rest conventions).

Authentication as for every API view (settings.REST_FRAMEWORK): a session (DRF enforces CSRF on
a POST) or ``Authorization: Bearer TOKEN`` (no CSRF). Reading needs any role; POST needs operator
or admin. A bad command is a 400 naming each field (``{"error", "fields"}``) before anything is sent.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from agent.verbs import VERBS
from webui.changelog.api import choice_filter, text_filter
from webui.commands import service
from webui.commands.models import Command, CommandStatus
from webui.dashboard.roles import has_role
from webui.rest import ApiListView, ApiView, OffsetPagination, errors


class OperatorWrites(BasePermission):
    message = "lab commands need the operator role"

    def has_permission(self, request: Request, view: Any) -> bool:
        role = "viewer" if request.method in ("GET", "HEAD") else "operator"
        return has_role(request.user, role)


class TimingsSerializer(serializers.Serializer[Any]):
    created = serializers.DateTimeField(allow_null=True)
    sent = serializers.DateTimeField(allow_null=True)
    started = serializers.DateTimeField(allow_null=True)
    finished = serializers.DateTimeField(allow_null=True)
    agent = serializers.DictField(child=serializers.FloatField(), help_text="the agent's clock (epoch seconds)")


class CommandSerializer(serializers.Serializer[Any]):
    """A command as webui.commands.service.to_json writes it (the fields describe it for the schema)."""

    id = serializers.UUIDField()
    node = serializers.CharField()
    verb = serializers.ChoiceField(choices=sorted(VERBS))
    args = serializers.DictField(help_text="the verb's arguments (docs/CONTRACTS.md, lab verbs)")
    status = serializers.ChoiceField(choices=CommandStatus.choices)
    error = serializers.CharField(allow_null=True, help_text="why it failed, for a person to read")
    result = serializers.DictField(
        allow_null=True,
        help_text=(
            "what the agent reports (ping: sent, received, loss, rtt_ms, and the kernel's route: interface,"
            " the graph id of the interface it left by, and via, its gateway or null)"
        ),
    )
    actor = serializers.CharField(help_text="the user who asked")
    request_id = serializers.CharField(allow_null=True)
    idempotency_key = serializers.CharField(allow_null=True)
    timings = TimingsSerializer()

    def to_representation(self, instance: Command) -> dict[str, Any]:
        return service.to_json(instance)


class CommandFilter(django_filters.FilterSet):
    node = text_filter(63, "node name")
    verb = choice_filter([(v, v) for v in sorted(VERBS)])
    status = choice_filter(CommandStatus.choices)
    actor = text_filter(150, "the user who asked", field_name="actor_name")

    class Meta:
        model = Command
        fields: list[str] = []


class CommandRequestSerializer(serializers.Serializer[Any]):
    node = serializers.CharField(help_text="the host the agent runs on")
    verb = serializers.ChoiceField(choices=sorted(VERBS))
    args = serializers.DictField(help_text="the verb's arguments (docs/CONTRACTS.md, lab verbs)")
    idempotency_key = serializers.CharField(required=False, help_text="the same key twice runs once")


class CommandsView(ApiView):
    permission_classes = [IsAuthenticated, OperatorWrites]


class CommandList(ApiListView):
    """Newest first, paged like the change log; POST runs a verb."""

    permission_classes = [IsAuthenticated, OperatorWrites]
    queryset = Command.objects.order_by("-created", "id")
    pagination_class = OffsetPagination  # command ids are uuids: nothing to pin pages on
    serializer_class = CommandSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = CommandFilter

    @extend_schema(
        summary="Lab commands, newest first",
        operation_id="commands_list",
        responses={200: CommandSerializer(many=True), **errors(400)},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)

    @extend_schema(
        summary="Run a lab verb on a host",
        request=CommandRequestSerializer,
        responses={
            202: CommandSerializer,
            200: OpenApiResponse(CommandSerializer, description="the same idempotency key: the earlier command"),
            409: OpenApiResponse(CommandSerializer, description="failed at once (e.g. the node is offline)"),
            **errors(400, 403),
        },
    )
    def post(self, request: Request) -> Response:
        request_id = request.META.get("HTTP_X_REQUEST_ID", "")
        try:
            submitted = service.submit(request.user, request.data, request_id)
        except service.CommandRejected as exc:
            raise ValidationError({field: [reason] for field, reason in exc.errors.items()}) from None
        body = service.to_json(submitted.command)
        if not submitted.created:
            return Response(body, status=status.HTTP_200_OK)  # the same idempotency key: nothing new runs
        if submitted.command.status == CommandStatus.FAILED:
            return Response(body, status=status.HTTP_409_CONFLICT)  # e.g. the node is offline: failed at once
        return Response(body, status=status.HTTP_202_ACCEPTED)


class CommandDetail(CommandsView):
    @extend_schema(summary="One lab command", responses={200: CommandSerializer, **errors(404)})
    def get(self, request: Request, pk: UUID) -> Response:
        command = Command.objects.filter(pk=pk).first()
        if command is None:
            raise NotFound("no such command")
        return Response(service.to_json(command))
