"""A new pair's temporary names fit the kernel's 15 bytes and tell which command made them: from a
command's uuid they are its own (the server finds the command by them), from any other id random."""

from __future__ import annotations

import re

from agent.verbs import temp_names

COMMAND = "0b5d5c3e-8d1f-4c39-9a57-2f1f4f1d2a10"


def test_it_derives_the_names_from_the_commands_uuid():
    assert temp_names(COMMAND) == ("nsmap0b5d5c3e8a", "nsmap0b5d5c3e8b")
    assert temp_names(COMMAND.upper()) == temp_names(COMMAND)


def test_it_gives_a_command_without_a_uuid_a_random_pair_of_15_bytes():
    first, second = temp_names("cli-1")
    assert re.fullmatch(r"nsmap[0-9a-f]{9}a", first), f"{first!r} is not nsmap + 9 hex digits + 'a'"
    assert second == first[:-1] + "b", f"the ends {first!r} and {second!r} do not share one tail"
    assert len({temp_names("cli-1") for _ in range(20)}) > 1, "twenty calls gave one and the same pair"
