"""`python -m agent do VERB ARGS`: a lab verb on this host, checked and run exactly as a command from the server.

ARGS is one JSON object (`do link.delete '{"interface": "ns:...:7"}'`) or KEY=VALUE words with
dotted keys for nesting (`do veth.create a.namespace=lab a.name=veth0 b.namespace=lab
b.name=veth1`); a VALUE of true/false is a boolean, digits an integer, anything else a string
(write JSON for a name made of digits). The operator is root here already: no signature.
Exit status: 0 done, 2 bad input or refused (nothing changed), 1 the kernel failed a step.
"""

from __future__ import annotations

import json
import os
import re
import sys
import uuid
from typing import Any

from agent.verbs import ArgsError, parse_args

EXIT_DONE, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
INTEGER = re.compile(r"^-?[0-9]{1,9}$")


class UsageError(ValueError):
    pass


def parse_words(words: list[str]) -> dict[str, Any]:
    """The args object from the command line (see the module docstring)."""
    if len(words) == 1 and words[0].lstrip().startswith("{"):
        try:
            data = json.loads(words[0])
        except ValueError as exc:
            raise UsageError(f"the args are not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise UsageError("the args JSON must be an object")
        return data
    args: dict[str, Any] = {}
    for word in words:
        key, eq, raw = word.partition("=")
        if not eq or not key:
            raise UsageError(f"{word!r}: expected KEY=VALUE (or one JSON object)")
        value: Any = {"true": True, "false": False}.get(raw, int(raw) if INTEGER.match(raw) else raw)
        *parents, leaf = key.split(".")
        node = args
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise UsageError(f"{key!r}: {part!r} is given a value and sub-keys")
            node = child
        if leaf in node:
            raise UsageError(f"{key!r} is given twice")
        node[leaf] = value
    return args


def run_do(verb: str, words: list[str], node: str | None) -> int:
    from agent.actions import ActionFailed, ActionRefused, Policy, actions

    try:
        action = parse_args(verb, parse_words(words), node or "")
        policy = Policy.from_env()
    except ArgsError as exc:
        for field, reason in exc.errors:
            print(f"nsmap: {field}: {reason}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ValueError as exc:
        print(f"nsmap: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    command_id = str(uuid.uuid4())
    with actions(node or "", policy) as helper:
        try:
            result = helper.run(action, command_id)
        except ActionRefused as exc:
            print(f"nsmap: refused: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        except ActionFailed as exc:
            print(f"nsmap: failed: {exc}", file=sys.stderr)
            return EXIT_FAILED
    actor = os.environ.get("SUDO_USER") or os.environ.get("USER") or "root"
    print(json.dumps({"id": command_id, "verb": verb, "actor": actor, "result": result}, indent=2))
    return EXIT_DONE
