"""Observed state: what the agents last reported. Only the ingest service writes these rows.

Keys are the agent's per-host keys ("ns:<inode>", "if:<ns inode>:<ifindex>"); the global id of an
object is "<node>/<key>". Each Interface keeps the peer and master keys as reported (``peer_key``,
``master_key``) and, once both rows exist, the relations (``peer``, ``master``) for queries.
"""

from __future__ import annotations

from django.db import models


class NodeState(models.TextChoices):
    ONLINE = "online"
    STALE = "stale"
    OFFLINE = "offline"  # registered (nsmap_node add) but never heard from


class Node(models.Model):
    """One host running an agent.

    ``key`` is the node's HMAC secret. It is stored as issued (not hashed) because verifying an
    HMAC needs the secret itself; the database is inside the trust boundary. It is never shown
    by the API or the admin list.
    """

    name = models.CharField(max_length=63, unique=True)
    key = models.CharField(max_length=128, blank=True, default="")
    key_created = models.DateTimeField(null=True, blank=True)
    run = models.CharField(max_length=64, blank=True, default="", help_text="the agent run id in force")
    last_seq = models.BigIntegerField(default=0)
    synced = models.BooleanField(default=False, help_text="a snapshot of the current run was applied")
    retired_runs = models.JSONField(default=list, blank=True, help_text="recent earlier runs (late messages)")
    resync_requested = models.DateTimeField(null=True, blank=True, help_text="when a snapshot was last asked")
    last_heartbeat = models.DateTimeField(null=True, blank=True, help_text="when the last message arrived")
    last_message_time = models.FloatField(null=True, blank=True, help_text="the agent's clock in it")
    state = models.CharField(max_length=8, choices=NodeState.choices, default=NodeState.OFFLINE)
    complete = models.BooleanField(default=True, help_text="the last snapshot saw everything")
    errors = models.JSONField(default=list, blank=True)
    first_seen = models.DateTimeField(auto_now_add=True)
    changed = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["state", "last_heartbeat"], name="node_state_hb")]

    def __str__(self) -> str:
        return self.name


class DeadLetter(models.Model):
    """A message that passed admission but could not be applied (a database error): kept with the
    reason instead of rolling back or blocking the node's other messages (webui/topology/deadletters.py)."""

    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="dead_letters", db_index=False)
    received = models.DateTimeField()
    run = models.CharField(max_length=64)
    seq = models.BigIntegerField()
    type = models.CharField(max_length=16)
    reason = models.TextField()
    body = models.TextField(help_text="the message as received (cut at 64 KiB)")

    class Meta:
        ordering = ["node_id", "-id"]
        indexes = [models.Index(fields=["node", "-id"], name="deadletter_node")]

    def __str__(self) -> str:
        return f"{self.node_id} {self.run} seq {self.seq}: {self.reason[:60]}"


class GraphVersion(models.Model):
    """One row: the number of the last patch. The ingest locks and increments it, so patches
    are numbered without gaps across many workers."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"graph version {self.seq}"


class Namespace(models.Model):
    # no separate index on node: the unique (node, key) constraint serves node lookups
    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="namespaces", db_index=False)
    key = models.CharField(max_length=64)
    inode = models.BigIntegerField()
    dev = models.BigIntegerField(default=0)
    kind = models.CharField(max_length=16)
    label = models.CharField(max_length=255)
    names = models.JSONField(default=list, blank=True)
    pids = models.JSONField(default=list, blank=True)
    container_id = models.CharField(max_length=128, null=True, blank=True)
    nsid = models.IntegerField(null=True, blank=True)
    owner = models.JSONField(
        null=True,
        blank=True,
        help_text="{runtime, name, id, pod, pod_namespace, pod_uid, containers, project, networks}",
    )
    holder = models.TextField(null=True, blank=True, help_text="what alone keeps a hidden namespace")
    first_seen = models.DateTimeField()
    changed = models.DateTimeField()

    class Meta:
        ordering = ["node_id", "key"]
        constraints = [models.UniqueConstraint(fields=["node", "key"], name="namespace_node_key")]
        indexes = [
            models.Index(fields=["node", "kind"], name="namespace_node_kind"),
            models.Index(fields=["label"], name="namespace_label"),
            models.Index(fields=["container_id"], name="namespace_container"),
        ]

    def __str__(self) -> str:
        return f"{self.node_id}/{self.key}"


class Interface(models.Model):
    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="interfaces", db_index=False)
    namespace = models.ForeignKey(Namespace, on_delete=models.CASCADE, related_name="interfaces")
    key = models.CharField(max_length=64)
    ifindex = models.IntegerField()
    name = models.CharField(max_length=64)
    kind = models.CharField(max_length=32)
    mac = models.CharField(max_length=64, null=True, blank=True)
    mtu = models.IntegerField(null=True, blank=True)
    operstate = models.CharField(max_length=32, default="UNKNOWN")
    up = models.BooleanField(default=False)
    master_key = models.CharField(max_length=64, null=True, blank=True)
    master = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="ports", db_constraint=True
    )
    addresses = models.JSONField(default=list, blank=True, help_text="[{family, address, prefixlen, scope}]")
    altnames = models.JSONField(default=list, blank=True)
    alias = models.CharField(max_length=255, null=True, blank=True)
    peer_ifindex = models.IntegerField(null=True, blank=True)
    peer_key = models.CharField(max_length=64, null=True, blank=True)
    peer = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    peer_status = models.CharField(max_length=16, null=True, blank=True)
    peer_note = models.CharField(max_length=255, null=True, blank=True)
    first_seen = models.DateTimeField()
    changed = models.DateTimeField()

    class Meta:
        ordering = ["node_id", "key"]
        constraints = [models.UniqueConstraint(fields=["node", "key"], name="interface_node_key")]
        indexes = [
            models.Index(fields=["name"], name="interface_name"),
            models.Index(fields=["mac"], name="interface_mac"),
            models.Index(fields=["node", "peer_key"], name="interface_peer_key"),
            models.Index(fields=["node", "master_key"], name="interface_master_key"),
        ]

    def __str__(self) -> str:
        return f"{self.node_id}/{self.key}"
