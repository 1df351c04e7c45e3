"""Signed lab commands through the agent's whole path (agent/lab.py -> verbs -> actions -> kernel), reported."""

from __future__ import annotations

import pytest

from agent.lab import LabCommands
from agent.labwire import validate_command_result
from tests.agent.actions_support import Lab, kernel_state
from tests.agent.lab_support import KEY, Reports, signed
from tests.kernel_topology import Topology

pytestmark = pytest.mark.kernel


@pytest.fixture
def reports() -> Reports:
    return Reports()


@pytest.fixture
def agent_lab(lab: Lab, reports: Reports) -> LabCommands:
    return LabCommands("h1", KEY, lab.actions, report=reports)


def test_it_runs_a_signed_command_and_reports_running_then_done(
    topo: Topology, agent_lab: LabCommands, reports: Reports
):
    a = topo.add_netns("a")
    body, signature = signed("bridge.create", {"namespace": a.name, "name": "br0"})
    outcome = agent_lab.handle(body, signature)
    assert outcome.status == "done", outcome.error
    assert topo.link_names(a) == ["br0", "lo"]
    assert [validate_command_result(r)["status"] for r in reports] == ["running", "done"]
    done = reports[-1]
    assert done["result"]["name"] == "br0" and done["error"] is None
    assert done["timings"]["received"] <= done["timings"]["started"] <= done["timings"]["finished"]
    assert topo.link(a, "br0")["ifalias"] == f"nsmap:{done['id']}", "the mark does not name the command"


def test_it_refuses_a_replayed_command_id_and_changes_nothing(topo: Topology, agent_lab: LabCommands, reports: Reports):
    a = topo.add_netns("a")
    create = signed("bridge.create", {"namespace": a.name, "name": "br0"})
    assert agent_lab.handle(*create).status == "done"
    bridge = reports[-1]["result"]["interface"]
    assert agent_lab.handle(*signed("bridge.delete", {"interface": bridge})).status == "done"
    before, reported = kernel_state(topo, a), len(reports)
    outcome = agent_lab.handle(*create)  # the same text and signature again: it would succeed if it ran
    assert (outcome.status, outcome.error) == ("rejected", "replayed: this command id has been run already")
    assert kernel_state(topo, a) == before and topo.link_names(a) == ["lo"], "the replay re-created the bridge"
    assert len(reports) == reported, "a replay was reported"


def test_it_changes_nothing_for_a_forged_command(topo: Topology, agent_lab: LabCommands):
    a = topo.add_netns("a")
    body, signature = signed("bridge.create", {"namespace": a.name, "name": "br0"})
    before = kernel_state(topo, a)
    assert agent_lab.handle(body.replace("br0", "br1"), signature).status == "rejected"
    assert kernel_state(topo, a) == before


def test_it_reports_a_refusal_with_the_field_and_reason(topo: Topology, agent_lab: LabCommands, reports: Reports):
    a = topo.add_netns("a")
    topo.bridge(a, "theirs")
    theirs = f"h1/if:{a.inode}:{topo.link(a, 'theirs')['ifindex']}"
    before = kernel_state(topo, a)
    outcome = agent_lab.handle(*signed("bridge.delete", {"interface": theirs}))
    assert outcome.status == "failed" and outcome.error.startswith(
        "refused: args.interface: nsmap did not create theirs"
    )
    assert kernel_state(topo, a) == before
    assert validate_command_result(reports[-1])["status"] == "failed"
