"""REST: POST/GET /api/v1/commands/ and GET /api/v1/commands/<id>/ (Django REST framework).

Authentication is explicit here so that the views behave the same under DRF's defaults: a
session (DRF's SessionAuthentication, which enforces CSRF) or ``Authorization: Bearer TOKEN``
(webui.accounts tokens, no CSRF). Reading needs any role; POST needs operator or admin.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from rest_framework import status
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.exceptions import AuthenticationFailed, NotFound, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from webui.accounts.auth import bearer_token, user_for_token
from webui.commands import service
from webui.commands.models import Command, CommandStatus
from webui.dashboard.roles import has_role

LIST_LIMIT = 200
FILTERS = ("node", "verb", "status", "actor")


class BearerTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer TOKEN`` (webui.accounts.models.Token)."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        header = request.META.get("HTTP_AUTHORIZATION")
        if header is None:
            return None
        user = user_for_token(bearer_token(header))
        if user is None:
            raise AuthenticationFailed("invalid or unknown API token")
        return user, None

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="nsmap"'


class OperatorWrites(BasePermission):
    message = "lab commands need the operator role"

    def has_permission(self, request: Request, view: Any) -> bool:
        role = "viewer" if request.method in ("GET", "HEAD", "OPTIONS") else "operator"
        return has_role(request.user, role)


class CommandsView(APIView):
    authentication_classes = [BearerTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated, OperatorWrites]
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser]


class CommandList(CommandsView):
    def get(self, request: Request) -> Response:
        rows: QuerySet[Command] = Command.objects.all()
        for name in FILTERS:
            value = request.query_params.get(name)
            if value is None:
                continue
            if name == "status" and value not in CommandStatus.values:
                raise ValidationError({"status": f"one of {', '.join(CommandStatus.values)}"})
            rows = rows.filter(**{"actor_name" if name == "actor" else name: value})
        return Response({"results": [service.to_json(c) for c in rows[:LIST_LIMIT]]})

    def post(self, request: Request) -> Response:
        request_id = request.META.get("HTTP_X_REQUEST_ID", "")
        try:
            submitted = service.submit(request.user, request.data, request_id)
        except service.CommandRejected as exc:
            return Response({"errors": exc.errors}, status=status.HTTP_400_BAD_REQUEST)
        body = service.to_json(submitted.command)
        if not submitted.created:
            return Response(body, status=status.HTTP_200_OK)  # the same idempotency key: nothing new runs
        if submitted.command.status == CommandStatus.FAILED:
            return Response(body, status=status.HTTP_409_CONFLICT)  # e.g. the node is offline: failed at once
        return Response(body, status=status.HTTP_202_ACCEPTED)


class CommandDetail(CommandsView):
    def get(self, request: Request, pk: UUID) -> Response:
        command = Command.objects.filter(pk=pk).first()
        if command is None:
            raise NotFound("no such command")
        return Response(service.to_json(command))
