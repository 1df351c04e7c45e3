"""The append-only change log: every observed change, one row each.

Time travel rests on it: the state at time T is every record with ``graph_seq`` <= the last
patch before T replayed in order (added/changed -> ``after``, removed -> gone, moved -> gone at
``before["key"]`` and present at ``after["key"]``). ``before``/``after`` are the protocol records
(agent/protocol.py) of the object, so no other table is needed to reconstruct a past graph.

A record of an agent message carries that message's ``run``/``seq`` and its position in it;
the unique constraint makes a replayed message unable to write twice. Host state records written
by the staleness check carry no message (run and seq are NULL).
"""

from __future__ import annotations

from django.db import models


class ObjectKind(models.TextChoices):
    HOST = "host"
    NAMESPACE = "namespace"
    INTERFACE = "interface"


class Action(models.TextChoices):
    ADDED = "added"
    CHANGED = "changed"
    REMOVED = "removed"
    MOVED = "moved"  # an interface that left one namespace and appeared in another (same MAC and kind)


class ChangeRecord(models.Model):
    time = models.DateTimeField(help_text="when the server applied it")
    observed = models.FloatField(null=True, blank=True, help_text="the agent's clock in the message (unix time)")
    node = models.CharField(max_length=63, help_text="node name (kept when the node is removed)")
    object_kind = models.CharField(max_length=16, choices=ObjectKind.choices)
    object_key = models.CharField(max_length=64, help_text='the per-host key ("if:..."; a host: its name)')
    object_id = models.CharField(max_length=140, help_text='"<node>/<key>" (the node name for a host)')
    name = models.CharField(max_length=255, help_text="what a person calls it at that time")
    action = models.CharField(max_length=8, choices=Action.choices)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    actor = models.CharField(max_length=160, help_text='"agent:<node>" or "user:<username>"')
    request_id = models.CharField(max_length=64, null=True, blank=True, help_text="the command that caused it")
    run = models.CharField(max_length=64, null=True, blank=True)
    seq = models.BigIntegerField(null=True, blank=True)
    position = models.IntegerField(default=0, help_text="order within the message")
    graph_seq = models.BigIntegerField(help_text="the patch number that published it")
    fields = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text='what a "changed" record changed, as ",group,group," (webui.changelog.replay.FIELD_GROUPS)',
    )

    class Meta:
        ordering = ["-graph_seq", "-position", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["node", "run", "seq", "position"], name="change_message_position"),
        ]
        indexes = [
            models.Index(fields=["-time", "-id"], name="change_time"),
            # the order every list and replay reads in: a first page walks it and stops at the page's end
            models.Index(fields=["graph_seq", "position", "id"], name="change_order"),
            models.Index(fields=["node", "-time"], name="change_node_time"),
            models.Index(fields=["object_id", "-time"], name="change_object_time"),
            models.Index(fields=["object_key", "-time"], name="change_key_time"),
            models.Index(fields=["actor", "-time"], name="change_actor_time"),
            models.Index(fields=["request_id"], name="change_request"),
        ]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.action} {self.object_id}"

    def save(self, *args: object, **kwargs: object) -> None:
        """Append-only: an existing record is never rewritten."""
        if self.pk is not None and not self._state.adding:
            raise ValueError("change records are append-only")
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class Checkpoint(models.Model):
    """Every node's observed state at one point of the log, so that a past moment is one
    checkpoint plus the records after it (webui/changelog/timetravel.py), never the whole log.

    ``data`` is webui.changelog.replay.Timeline.dump(): compressed JSON. A ``floor`` checkpoint
    stands for everything retention pruned before it: moments before its time are gone.
    """

    graph_seq = models.BigIntegerField(unique=True, help_text="the last record it includes")
    time = models.DateTimeField(help_text="the time of that record")
    records = models.IntegerField(default=0, help_text="records replayed since the previous checkpoint")
    floor = models.BooleanField(default=False, help_text="retention pruned the records before it")
    data = models.BinaryField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-graph_seq"]
        indexes = [models.Index(fields=["time"], name="checkpoint_time")]

    def __str__(self) -> str:
        return f"checkpoint {self.graph_seq} at {self.time:%Y-%m-%d %H:%M:%S}"
