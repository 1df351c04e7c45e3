"""`python -m agent scan` prints names as text: control characters from process names, interface
names or aliases (terminal escape sequences, bidi overrides) come out escaped, never raw."""

from __future__ import annotations

import unicodedata

from agent.__main__ import render_text
from agent.protocol import Process
from tests.factories import ROOT_INODE, make_interface, make_inventory


def test_it_escapes_control_characters_in_every_printed_name() -> None:
    inventory = make_inventory("h1", namespaces=1)
    root = inventory.namespaces[0]
    root.pids = [Process(1, "\x1b]0;owned\x07\x1b[2J")]
    inventory.namespaces[1].names = ["blue\u202egnp.exe"]
    inventory.interfaces.append(make_interface(ROOT_INODE, 77, "ev\x1b[31mil", peer_note="\r\x1b[Kfine"))
    inventory.interfaces[-1].peer_status = "unresolved"
    text = render_text(inventory)
    hidden = [c for c in text if c != "\n" and unicodedata.category(c) in ("Cc", "Cf")]
    assert not hidden, f"raw control characters printed: {hidden!r}"
    assert "\\x1b]0;owned\\x07\\x1b[2J" in text
    assert "blue\\u202egnp.exe" in text
    assert "ev\\x1b[31mil" in text and "\\r\\x1b[Kfine" in text


def test_it_prints_plain_names_unchanged() -> None:
    text = render_text(make_inventory("h1", namespaces=2))
    assert "\nns0 [named ns:4026532000]" in text
    assert "eth0@if100" in text and "\\" not in text
