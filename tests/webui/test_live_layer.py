"""The embedded channel layer (webui/live/layer.py) keeps channels' in-memory semantics while
doing less per message: every group member gets each message once, in order; a full member is
skipped without holding up the others; expired messages and memberships still go away."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from channels.exceptions import ChannelFull
from channels.layers import get_channel_layer

from webui.live import layer as layer_module
from webui.live.layer import LeanInMemoryChannelLayer


def run(coroutine: Any) -> Any:
    """On a loop in a thread of its own: the browser tests leave one running in the main thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_it_is_the_embedded_layer(settings) -> None:
    assert settings.EMBEDDED
    assert isinstance(get_channel_layer(), LeanInMemoryChannelLayer)


def test_it_delivers_each_group_message_to_every_member_in_order() -> None:
    async def scenario() -> list[list[int]]:
        lean = LeanInMemoryChannelLayer(capacity=10)
        names = [await lean.new_channel() for _ in range(3)]
        for name in names:
            await lean.group_add("g", name)
        for seq in range(5):
            await lean.group_send("g", {"type": "topology.patch", "seq": seq})
        return [[(await lean.receive(name))["seq"] for _ in range(5)] for name in names]

    assert run(scenario()) == [[0, 1, 2, 3, 4]] * 3, "every member gets every message once, in order"


def test_it_skips_a_full_member_and_still_serves_the_rest() -> None:
    async def scenario() -> tuple[int, int]:
        lean = LeanInMemoryChannelLayer(capacity=2)
        slow, fast = await lean.new_channel(), await lean.new_channel()
        await lean.group_add("g", slow)
        await lean.group_add("g", fast)
        await lean.group_send("g", {"type": "x", "n": 0})
        await lean.group_send("g", {"type": "x", "n": 1})
        await lean.receive(fast)
        await lean.receive(fast)
        await lean.group_send("g", {"type": "x", "n": 2})  # slow is full: skipped, not raised
        with pytest.raises(ChannelFull):
            await lean.send(slow, {"type": "x"})
        return (await lean.receive(fast))["n"], lean.channels[slow].qsize()

    assert run(scenario()) == (2, 2), "the full member kept its two messages, the other got the third"


def test_it_sweeps_expired_messages_and_memberships_once_a_second(monkeypatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(layer_module.time, "monotonic", lambda: now[0])

    async def scenario() -> list[bool]:
        lean = LeanInMemoryChannelLayer(expiry=60, group_expiry=86400)
        gone, other = await lean.new_channel(), await lean.new_channel()
        await lean.group_add("g", gone)
        await lean.group_add("h", other)
        await lean.group_send("h", {"type": "y"})  # the first sweep
        await lean.send(gone, {"type": "x"})
        lean.channels[gone]._queue[0] = (0.0, {"type": "x"})  # as if sent long ago: expired
        seen = []
        now[0] += layer_module.SWEEP_EVERY / 2
        await lean.group_send("h", {"type": "y"})
        seen.append(gone in lean.channels)
        now[0] += layer_module.SWEEP_EVERY / 2
        await lean.group_send("h", {"type": "y"})
        seen += [gone in lean.channels, gone in lean.groups.get("g", {})]
        return seen

    assert run(scenario()) == [True, False, False], (
        "within a second the expired message stays; after it, the message and its channel's memberships are swept"
    )
