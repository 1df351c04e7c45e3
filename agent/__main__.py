"""`python -m agent scan [--json]`, `python -m agent run` and `python -m agent do VERB ARGS`.

Imports stay lazy: `scan --json` is a short-lived process and starts fast only if it loads
nothing it does not use (no Celery, no pyroute2).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import unicodedata

from agent.protocol import Interface, Inventory, Owner

EXIT_OK, EXIT_PARTIAL, EXIT_FAILED = 0, 3, 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agent", description="nsmap agent")
    commands = parser.add_subparsers(dest="command", required=True)
    scan = commands.add_parser(
        "scan",
        help="print this host's namespaces, interfaces and veth peers",
        description=f"Exit status: {EXIT_OK} complete, {EXIT_PARTIAL} partial (see errors), {EXIT_FAILED} failed.",
    )
    scan.add_argument("--json", action="store_true", help="one JSON object (the wire schema)")
    scan.add_argument("--node", help="node name to report (default: NODE_NAME or the hostname)")
    commands.add_parser("run", help="follow the kernel and publish to the server", add_help=False)
    do = commands.add_parser(
        "do",
        help="run a lab verb on this host (agent/do_cli.py)",
        description="Exit status: 0 done, 2 bad input or refused (nothing changed), 1 the kernel failed a step.",
    )
    do.add_argument("verb", help="veth.create, link.move, link.delete, link.set, address.add, ... ping")
    do.add_argument("args", nargs="+", help="one JSON object, or KEY=VALUE words with dotted keys (a.name=veth0)")
    do.add_argument("--node", help="node name in the graph ids printed (default: NODE_NAME or the short hostname)")
    args, rest = parser.parse_known_args(argv)
    if args.command == "run":
        from agent.runner import main as run_main

        return run_main(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "do":
        from agent.do_cli import EXIT_BAD_INPUT, run_do
        from agent.settings import SettingsError, read_node_name

        try:  # the name the agent publishes under, so that the printed ids are the graph's
            node = args.node or read_node_name(os.environ)
        except SettingsError as exc:
            print(f"nsmap: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        return run_do(args.verb, args.args, node)
    return run_scan(args.json, args.node or os.environ.get("NODE_NAME"))


def run_scan(as_json: bool, node: str | None) -> int:
    from agent.discovery import collector_paused, discover

    with collector_paused():  # the JSON too is built only to be printed
        try:
            inventory = discover(node)
        except PermissionError as exc:
            print(f"nsmap: cannot open a netlink socket: {exc.strerror}", file=sys.stderr)
            return EXIT_FAILED
        if as_json:
            sys.stdout.write(json.dumps(inventory.to_json(), separators=(",", ":")) + "\n")  # one write
        else:
            sys.stdout.write(render_text(inventory))
    for error in inventory.errors:
        print(f"nsmap: {error}", file=sys.stderr)
    return EXIT_OK if inventory.complete else EXIT_PARTIAL


def owner_text(owner: Owner) -> str:
    """`owner docker web-1 project shop pod default/nginx (uid ...) containers a,b`."""
    parts = ["owner", owner.runtime]
    if owner.name:
        parts.append(owner.name)
    if owner.pod:
        parts += ["pod", owner.label or ""]
    if owner.pod_uid:
        parts.append(f"(uid {owner.pod_uid})")
    if owner.project:
        parts += ["project", owner.project]
    if owner.containers and owner.containers != (owner.name,):
        parts += ["containers", ",".join(owner.containers)]
    if owner.networks:
        parts += ["networks", ",".join(owner.networks)]
    return " ".join(parts)


def render_text(inventory: Inventory) -> str:
    """What `ip -br link` would print for every namespace, with each veth's exact peer. Control,
    format and unassigned characters in names (a process can call itself "\\x1b]0;..." and steer
    the terminal) are printed as escapes: \\x1b, \\u202e."""

    def escaped(line: str) -> str:
        hidden = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
        return "".join(ascii(c)[1:-1] if unicodedata.category(c) in hidden else c for c in line)

    names = {ns.key: ns.label for ns in inventory.namespaces}
    by_key = {i.key: i for i in inventory.interfaces}
    lines = [f"host {inventory.node}: {len(inventory.namespaces)} namespaces, {len(inventory.interfaces)} interfaces"]
    by_namespace: dict[str, list[Interface]] = {}
    for interface in inventory.interfaces:
        by_namespace.setdefault(interface.namespace, []).append(interface)
    for ns in inventory.namespaces:
        pids = ", ".join(f"{p.pid} ({p.comm})" for p in ns.pids[:3])
        extra = f" container {ns.container_id[:12]}" if ns.container_id else ""
        if ns.owner is not None:
            extra += " " + owner_text(ns.owner)
        if ns.holder and ns.holder != ns.label:
            extra += f" held by {ns.holder}"
        lines += ["", f"{ns.label} [{ns.kind} {ns.key}]{extra}" + (f" pids {pids}" if pids else "")]
        for i in by_namespace.get(ns.key, []):
            addresses = " ".join(str(a) for a in i.addresses)
            master = f" master {by_key[i.master].name}" if i.master in by_key else ""
            peer = ""
            if i.peer and i.peer in by_key:
                other = by_key[i.peer]
                peer = f" peer {other.name} in {names.get(other.namespace, other.namespace)}"
            elif i.peer_status == "unresolved":
                peer = f" peer unresolved: {i.peer_note}"
            lines.append(
                f"  {i.ifindex:>5} {i.display_name:<24} {i.kind:<9} {i.operstate:<15}"
                f"{i.mac or '':<18}{addresses}{master}{peer}"
            )
    return "\n".join(escaped(line) for line in lines) + "\n"


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # `scan | head`
        sys.stderr.close()
        sys.exit(EXIT_OK)
