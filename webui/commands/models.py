"""User intents: a lab command from request to outcome (requested -> sent -> running -> done | failed).

The kernel's new state is not kept here: it arrives through the agent's ordinary reports
(webui.topology); this row says who asked for what, when, and what the agent answered.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class CommandStatus(models.TextChoices):
    REQUESTED = "requested"
    SENT = "sent"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


FINISHED = (CommandStatus.DONE, CommandStatus.FAILED)


class Command(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    node = models.CharField(max_length=63)
    verb = models.CharField(max_length=40)
    args = models.JSONField()
    status = models.CharField(max_length=10, choices=CommandStatus.choices, default=CommandStatus.REQUESTED)
    error = models.TextField(blank=True, default="")
    result = models.JSONField(null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    actor_name = models.CharField(max_length=150, help_text="kept when the user is deleted")
    request_id = models.CharField(max_length=100, blank=True, default="")
    idempotency_key = models.CharField(max_length=100, blank=True, default="")
    created = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    agent_timings = models.JSONField(default=dict, blank=True, help_text="the agent's clock (epoch seconds)")

    class Meta:
        ordering = ["-created"]
        indexes = [
            models.Index(fields=["node", "-created"], name="command_node_created"),
            models.Index(fields=["status"], name="command_status"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["actor", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="command_idempotency",
            )
        ]

    def __str__(self) -> str:
        return f"{self.verb} on {self.node} ({self.status})"
