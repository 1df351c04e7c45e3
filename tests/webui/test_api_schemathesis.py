"""Schemathesis against /api/v1/schema/, in-process (the Django WSGI app on the test database):
generated requests, valid and invalid, signed in with a token. No answer is a 5xx, and every
answer matches the schema (status documented, body shaped as documented)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import negative_data_rejection
from schemathesis.core.result import Ok

from tests.factories import FIRST_INODE, FakeAgent, make_inventory, remove

pytestmark = pytest.mark.django_db

EXAMPLES = 25  # per operation and mode: bounded, and derandomized so a run repeats the last


@pytest.fixture
def wsgi_app() -> Iterator[Any]:
    """The WSGI app inside the test's transaction: like Django's test client, requests must not
    close the connection that holds it."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def in_order(query: dict[str, Any] | None) -> None:
    """since after until, and from after to, are 400s (tests/webui/test_api_changes.py,
    test_api_history.py), rules between two parameters that the schema cannot state: valid requests
    get each pair in order."""
    for first_name, last_name in (("since", "until"), ("from", "to")):
        first, last = (query or {}).get(first_name), (query or {}).get(last_name)
        if not (query and isinstance(first, str) and isinstance(last, str)):
            continue
        try:
            a, b = (datetime.fromisoformat(t.replace("Z", "+00:00")) for t in (first, last))
            if a.tzinfo is None or b.tzinfo is None or a <= b:
                continue
        except ValueError:
            continue  # not a date-time: the request is invalid anyway
        query[first_name], query[last_name] = last, first


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_it_answers_generated_requests_as_the_schema_says(
    wsgi_app: Any, api_token: str, ingest: Any, agent: FakeAgent, mode: GenerationMode
) -> None:
    ingest(agent.snapshot(make_inventory("h1", namespaces=3)))
    ingest(agent.delta([remove("interface", f"if:{FIRST_INODE}:1")]))
    # identity: the WSGI transport sends requests' default "Accept-Encoding: gzip" but does not
    # unpack the answer (gzip is tested in tests/webui/test_api_http.py)
    auth = {"Authorization": f"Bearer {api_token}", "Accept-Encoding": "identity"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", wsgi_app, headers=auth)
    # the token above is sent with every request: no generated (or broken) Authorization header,
    # which the real one would replace and so make a "bad" request a good one
    schema.config.generation.update(with_security_parameters=False)
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results), f"operations schemathesis cannot read: {results}"
    assert not [op.path for op in operations if op.get_parameter(name="Authorization", location="header")]
    assert sorted(f"{op.method.upper()} {op.path}" for op in operations) == [
        "GET /api/v1/changes/",
        "GET /api/v1/changes/activity/",
        "GET /api/v1/changes/export/",
        "GET /api/v1/commands/",
        "GET /api/v1/commands/{id}/",
        "GET /api/v1/diff/",
        "GET /api/v1/nodes/",
        "GET /api/v1/topology/",
        "POST /api/v1/commands/",
    ]
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and not operation.query:
            continue  # nothing to make invalid

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            in_order(case.query)
            empty = any(value == "" for value in (case.query or {}).values())
            # an empty optional parameter is one left out (allowEmptyValue, webui.rest.empty_means_absent),
            # which schemathesis's negative mode still counts as invalid: such a request is a valid one
            excluded = [negative_data_rejection] if mode is GenerationMode.NEGATIVE and empty else []
            case.call_and_validate(headers=auth, excluded_checks=excluded)

        check()
