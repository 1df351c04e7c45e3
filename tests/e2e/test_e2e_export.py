"""Exports: PNG and SVG of the view, the graph as JSON, Graphviz dot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Console, Server, open_graph

pytestmark = pytest.mark.e2e


def _export(page: Any, act: str) -> bytes:
    page.click(".nsm-export summary")
    with page.expect_download() as info:
        page.click(f"[data-act={act}]")
    return Path(info.value.path()).read_bytes()


def test_it_exports_png_svg_json_and_dot(server: Server, page: Any, console: Console) -> None:
    open_graph(page, server, "e2e-viewer")
    png = _export(page, "export-png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000
    svg = _export(page, "export-svg").decode()
    assert "<svg" in svg[:400]
    graph = json.loads(_export(page, "export-json"))
    assert {"hosts", "namespaces", "interfaces", "seq"} <= graph.keys()
    assert any(n["kind"] == "root" for n in graph["namespaces"])
    dot = _export(page, "export-dot").decode()
    assert dot.startswith("graph nsmap {") and "subgraph cluster_" in dot
    console.check()
