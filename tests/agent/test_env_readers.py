"""The environment readers shared by agent/settings.py and webui/settings.py: defaults for unset or
blank variables, the usual spellings, and nonsense refused with the variable and its value named."""

from __future__ import annotations

import pytest

from agent.env import EnvError, read_bool, read_choice, read_float, read_int, read_list, read_str

LEVELS = ("DEBUG", "INFO", "WARNING")


def test_it_takes_the_default_when_a_variable_is_unset_or_blank():
    for env in ({}, {"X": "  "}):
        assert read_str(env, "X", "d") == "d"
        assert read_int(env, "X", 7, low=1) == 7
        assert read_float(env, "X", 2.5, low=0.0) == 2.5
        assert read_choice(env, "X", "INFO", LEVELS) == "INFO"
    assert read_bool({}, "X", True) is True
    assert read_list({}, "X", ["a"]) == ["a"]


def test_it_reads_the_usual_spellings():
    assert [read_bool({"X": v}, "X", False) for v in ("1", "true", "Yes", " ON ")] == [True] * 4
    assert [read_bool({"X": v}, "X", True) for v in ("0", "false", "No", "off", "")] == [False] * 5
    assert read_choice({"X": "warning"}, "X", "INFO", LEVELS) == "WARNING"  # spelled as in the choices
    assert read_int({"X": " 42 "}, "X", 0, low=1, high=100) == 42
    assert read_float({"X": "0.5"}, "X", 1.0, low=0.0, high=1.0) == 0.5
    assert read_list({"X": " a, ,b ,"}, "X", []) == ["a", "b"]
    assert read_str({"X": "  lab-1 \n"}, "X", "d") == "lab-1"


@pytest.mark.parametrize(
    ("read", "raw", "says"),
    [
        (lambda env: read_bool(env, "NSMAP_X", False), "maybe", "is not a boolean"),
        (lambda env: read_int(env, "NSMAP_X", 1, low=1), "1.5", "is not an integer"),
        (lambda env: read_int(env, "NSMAP_X", 1, low=1, high=10), "11", "must be an integer in [1, 10]"),
        (lambda env: read_float(env, "NSMAP_X", 1.0, low=0.1), "0", "must be a number >= 0.1"),
        (lambda env: read_float(env, "NSMAP_X", 1.0, low=0.1), "nan", "must be finite"),
        (lambda env: read_float(env, "NSMAP_X", 1.0, low=0.1), "inf", "must be finite"),
        (lambda env: read_choice(env, "NSMAP_X", "INFO", LEVELS), "LOUD", "is not one of DEBUG, INFO, WARNING"),
    ],
)
def test_it_refuses_nonsense_naming_the_variable_and_its_value(read, raw, says):
    with pytest.raises(EnvError) as caught:
        read({"NSMAP_X": raw})
    assert str(caught.value).startswith(f"NSMAP_X={raw!r}") and says in str(caught.value), str(caught.value)
