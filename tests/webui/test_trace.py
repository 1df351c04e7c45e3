"""With NSMAP_TRACE on, every broadcast patch leaves one trace line saying when it passed each
stage of the ingest, in order; with it off, nothing is logged."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.factories import FakeAgent, make_inventory
from webui.live import trace
from webui.topology.ingest import ingest

pytestmark = pytest.mark.django_db


def trace_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, int, dict[str, Any]]]:
    return [parsed for r in caplog.records if (parsed := trace.parse(r.getMessage())) is not None]


def test_it_logs_the_moments_of_each_patch_in_order(
    agent: FakeAgent, settings: Any, caplog: pytest.LogCaptureFixture, django_capture_on_commit_callbacks
) -> None:
    settings.NSMAP_TRACE = True
    trace.begin(task=0.0)
    body, signature = agent.snapshot(make_inventory("h1", namespaces=2))
    with caplog.at_level(logging.INFO, logger="nsmap.trace"), django_capture_on_commit_callbacks(execute=True):
        result = ingest(body, signature)
    [(kind, seq, fields)] = trace_lines(caplog)
    assert (kind, seq) == ("patch", result.graph_seq)
    stages = ["tx", "locked", "group", "applied", "written", "commit", "sent"]
    assert [fields[s] for s in stages] == sorted(fields[s] for s in stages)
    assert fields["agent"] <= fields["tx"] and fields["messages"] == 1


def test_it_logs_nothing_when_off(
    agent: FakeAgent, settings: Any, caplog: pytest.LogCaptureFixture, django_capture_on_commit_callbacks
) -> None:
    settings.NSMAP_TRACE = False
    body, signature = agent.snapshot(make_inventory("h1", namespaces=1))
    with caplog.at_level(logging.INFO, logger="nsmap.trace"), django_capture_on_commit_callbacks(execute=True):
        ingest(body, signature)
    assert trace_lines(caplog) == [] and trace.marks() is None
