"""The OpenAPI shapes of the graph JSON (docs/CONTRACTS.md) and of the node summaries.

Used only by the schema (``extend_schema(responses=...)`` in webui.topology.api): the views
answer with the dicts of webui.topology.graph / queries, built without a serializer per row,
because a graph holds thousands of rows. tests/webui/test_api_schemathesis.py checks real
answers against them.
"""

from __future__ import annotations

from typing import Any, get_args

from rest_framework import serializers

from agent.protocol import NamespaceKind, PeerStatus
from webui.topology.models import NodeState

TIME = "UTC, ISO 8601 with milliseconds and a Z"
# FIELD_NAMES: a few JSON keys (label, errors) share a name with a Field/Serializer attribute;
# declared fields are moved into .fields by SerializerMetaclass, so only the type checker minds.
# named enums of the schema (settings.SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"])
NAMESPACE_KINDS = list(get_args(NamespaceKind))
PEER_STATUSES = list(get_args(PeerStatus))


class HostSerializer(serializers.Serializer[Any]):
    id = serializers.CharField(help_text="the node name")
    name = serializers.CharField()
    state = serializers.ChoiceField(choices=NodeState.choices)
    last_seen = serializers.DateTimeField(allow_null=True, help_text=f"the last message; {TIME}")
    run = serializers.CharField(allow_null=True, help_text="the agent run id in force")


class ProcessSerializer(serializers.Serializer[Any]):
    pid = serializers.IntegerField()
    comm = serializers.CharField()


class NamespaceSerializer(serializers.Serializer[Any]):
    id = serializers.CharField(help_text='"<node>/<key>"')
    host = serializers.CharField()
    key = serializers.CharField(help_text='"ns:<inode>"')
    kind = serializers.ChoiceField(choices=NAMESPACE_KINDS)
    label = serializers.CharField(help_text="what a person calls it")  # type: ignore[assignment]  # see FIELD_NAMES
    names = serializers.ListField(child=serializers.CharField(), help_text="names under /run/netns")
    pids = ProcessSerializer(many=True)
    container_id = serializers.CharField(allow_null=True)
    inode = serializers.IntegerField(min_value=0, max_value=2**63 - 1)
    first_seen = serializers.DateTimeField(help_text=TIME)
    changed = serializers.DateTimeField(help_text=TIME)


class InterfaceSerializer(serializers.Serializer[Any]):
    id = serializers.CharField(help_text='"<node>/<key>"')
    host = serializers.CharField()
    namespace = serializers.CharField(help_text="the namespace id")
    key = serializers.CharField(help_text='"if:<namespace inode>:<ifindex>"')
    ifindex = serializers.IntegerField()
    name = serializers.CharField()
    label = serializers.CharField(help_text='the name, with "@if<peer ifindex>" when known')  # type: ignore[assignment]  # see FIELD_NAMES
    kind = serializers.CharField(help_text='"veth", "bridge", ..., "loopback" or "device"')
    mac = serializers.CharField(allow_null=True)
    mtu = serializers.IntegerField(allow_null=True)
    operstate = serializers.CharField()
    up = serializers.BooleanField()
    master = serializers.CharField(allow_null=True, help_text="the id of its bridge, when stored")
    addresses = serializers.ListField(child=serializers.CharField(), help_text='"address/prefixlen"')
    altnames = serializers.ListField(child=serializers.CharField())
    alias = serializers.CharField(allow_null=True)
    peer_ifindex = serializers.IntegerField(allow_null=True)
    peer = serializers.CharField(allow_null=True, help_text="the id of the other veth end, when stored")
    peer_status = serializers.ChoiceField(choices=PEER_STATUSES, allow_null=True)
    peer_note = serializers.CharField(allow_null=True, help_text="why a peer is unresolved")
    first_seen = serializers.DateTimeField(help_text=TIME)
    changed = serializers.DateTimeField(help_text=TIME)


class GraphSerializer(serializers.Serializer[Any]):
    seq = serializers.IntegerField(help_text="the patch number this graph reflects")
    hosts = HostSerializer(many=True)
    namespaces = NamespaceSerializer(many=True)
    interfaces = InterfaceSerializer(many=True)


class DeadLetterSerializer(serializers.Serializer[Any]):
    received = serializers.DateTimeField(help_text=TIME)
    run = serializers.CharField()
    seq = serializers.IntegerField()
    type = serializers.CharField(help_text="snapshot, delta or heartbeat")
    reason = serializers.CharField(help_text="why it could not be applied")


class DeadLettersSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField(min_value=0, help_text="messages set aside (webui/topology/deadletters.py)")
    recent = DeadLetterSerializer(many=True, help_text="the newest few")


class NodeSummarySerializer(serializers.Serializer[Any]):
    id = serializers.CharField()
    name = serializers.CharField()
    state = serializers.ChoiceField(choices=NodeState.choices)
    last_heartbeat = serializers.DateTimeField(allow_null=True, help_text=TIME)
    last_seen = serializers.DateTimeField(allow_null=True, help_text="the same as last_heartbeat")
    run = serializers.CharField(allow_null=True)
    seq = serializers.IntegerField(help_text="the last message's seq in this run")
    synced = serializers.BooleanField(help_text="a snapshot of the current run was applied")
    complete = serializers.BooleanField(help_text="the last snapshot saw everything")
    errors = serializers.ListField(child=serializers.CharField(), help_text="what the agent could not see")  # type: ignore[assignment]  # see FIELD_NAMES
    has_key = serializers.BooleanField(help_text="the node signs its messages (the key is never shown)")
    first_seen = serializers.DateTimeField(help_text=TIME)
    namespaces = serializers.IntegerField(min_value=0)
    interfaces = serializers.IntegerField(min_value=0)
    dead_letters = DeadLettersSerializer(help_text="agent messages that could not be applied")


class NodeListSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField(min_value=0)
    results = NodeSummarySerializer(many=True)
