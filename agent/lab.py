"""Lab commands from the server: authenticated, checked again here, run once, reported.

The agent is root on its host and trusts nobody, its own server included: a lab command runs
only when it carries the HMAC of its exact text under this node's key (agent/signing.py), has
not been seen before (its id) and is recent (its time, so that a replay after the agent forgot
the id is refused too), and when agent/verbs.py accepts its args. A forged command is dropped
without a report (the server did not send it); every authentic one gets command_result messages
(running, then done or failed) through ``report``.
"""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from agent.actions import ActionFailed, ActionRefused, Actions
from agent.commands import MAX_BODY
from agent.labwire import CommandStatus, make_command_result, validate_command
from agent.protocol import ProtocolError
from agent.signing import sign, verify
from agent.verbs import ArgsError, parse_args

log = logging.getLogger("nsmap.agent.lab")

MAX_AGE = 300.0  # seconds a command stays valid after the server made it
MAX_SKEW = 60.0  # seconds a command's time may lie ahead of this host's clock
REMEMBERED_IDS = 4096  # more than MAX_AGE can hold at any sane rate

Report = Callable[[str, str | None], None]  # (body, signature), like publisher.Transport.send


@dataclass(slots=True)
class Outcome:
    """What became of one command: ``status`` "rejected" when it was not run (nor reported)."""

    status: CommandStatus | Literal["rejected"]
    error: str | None = None
    id: str | None = None
    result: dict[str, Any] | None = None
    timings: dict[str, float] = field(default_factory=dict)


class LabCommands:
    """Checks and runs lab commands for one node; call ``handle`` from one thread at a time."""

    def __init__(
        self,
        node: str,
        key: str | None,
        actions: Actions,
        report: Report | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.node = node
        self.key = key
        self.actions = actions
        self.report = report
        self.clock = clock
        self.seen: OrderedDict[str, None] = OrderedDict()
        self.rejected = 0

    def handle(self, body: str | bytes, signature: str | None) -> Outcome:
        """Authenticate, check, run and report one command; never raises."""
        received = self.clock()
        data, rejection = self._authenticate(body, signature)
        if rejection is not None:
            self.rejected += 1
            log.warning("rejected lab command: %s", rejection)
            return Outcome("rejected", rejection)
        try:
            command = validate_command(data)
        except ProtocolError as exc:
            self.rejected += 1
            log.warning("rejected lab command: %s", exc)
            return Outcome("rejected", str(exc))
        ident = command["id"]
        stale = self._replayed(ident, float(command["time"]), received)
        if stale is not None:
            self.rejected += 1
            log.warning("rejected lab command %s: %s", ident, stale)
            return Outcome("rejected", stale, ident)
        timings = {"received": received}
        try:
            action = parse_args(command["verb"], command["args"], self.node)
        except ArgsError as exc:
            return self._finish(Outcome("failed", f"bad args: {exc}", ident, None, timings))
        log.info(
            "lab command %s: %s by %s (request %s)", ident, command["verb"], command["actor"], command["request_id"]
        )
        timings["started"] = self.clock()
        self._send(Outcome("running", None, ident, None, dict(timings)))
        try:
            result = self.actions.run(action, ident)
        except ActionRefused as exc:
            outcome = Outcome("failed", f"refused: {exc}", ident)
        except ActionFailed as exc:
            outcome = Outcome("failed", f"failed: {exc}", ident)
        except Exception as exc:  # a bug or an unexpected kernel answer: reported, never fatal to the agent
            log.exception("lab command %s crashed", ident)
            outcome = Outcome("failed", f"failed: {type(exc).__name__}: {exc}", ident)
        else:
            outcome = Outcome("done", None, ident, result)
        outcome.timings = timings
        return self._finish(outcome)

    def _authenticate(self, body: str | bytes, signature: str | None) -> tuple[Any, str | None]:
        """(the parsed body, None), or (None, why it is refused)."""
        if not self.key:
            return None, "this agent has no NSMAP_NODE_KEY, so it runs no lab commands"
        if not isinstance(body, (str, bytes)) or len(body) > MAX_BODY:
            return None, f"a command is JSON text of at most {MAX_BODY} bytes"
        if not isinstance(signature, str) or not signature:
            return None, "unsigned command"
        raw = body.encode() if isinstance(body, str) else body
        if not verify(raw, self.key, signature):
            return None, "bad signature (forged, or signed with another node's key)"
        try:
            return json.loads(raw), None
        except ValueError:
            return None, "signed, but not JSON"

    def _replayed(self, ident: str, made: float, now: float) -> str | None:
        if ident in self.seen:
            return "replayed: this command id has been run already"
        if made < now - MAX_AGE:
            return f"expired: made {now - made:.0f}s ago (at most {MAX_AGE:.0f}s)"
        if made > now + MAX_SKEW:
            return f"made {made - now:.0f}s in the future: check the clocks"
        self.seen[ident] = None
        while len(self.seen) > REMEMBERED_IDS:
            self.seen.popitem(last=False)
        return None

    def _finish(self, outcome: Outcome) -> Outcome:
        outcome.timings["finished"] = self.clock()
        self._send(outcome)
        if outcome.status == "failed":
            log.warning("lab command %s failed: %s", outcome.id, outcome.error)
        return outcome

    def _send(self, outcome: Outcome) -> None:
        status = outcome.status
        if self.report is None or outcome.id is None or status == "rejected":
            return
        message = make_command_result(
            self.node, outcome.id, status, self.clock(), outcome.error, outcome.result, outcome.timings
        )
        text = json.dumps(message, separators=(",", ":"))
        try:
            self.report(text, sign(text.encode(), self.key) if self.key else None)
        except Exception:  # the broker is away: the result is lost, the kernel's change is not
            log.exception("could not report lab command %s (%s)", outcome.id, outcome.status)
