"""A scan pauses Python's garbage collector while it builds its records (they all outlive it)
and leaves the collector exactly as it found it, running or not."""

from __future__ import annotations

import gc

from agent.discovery import Discoverer, collector_paused


def test_it_leaves_a_running_collector_running() -> None:
    assert gc.isenabled()
    with Discoverer() as discoverer:
        discoverer.scan()
    assert gc.isenabled()


def test_it_leaves_a_stopped_collector_stopped() -> None:
    gc.disable()
    try:
        with Discoverer() as discoverer:
            discoverer.scan()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_it_pauses_the_collector_inside_and_resumes_it_after_nesting() -> None:
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled(), "the inner pause resumed the collector too early"
    assert gc.isenabled()
