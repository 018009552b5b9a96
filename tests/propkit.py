"""Hypothesis helpers shared by the property suites (tests/*/test_*properties.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import event, settings
from hypothesis import strategies as st

from protocol.errors import MalformedInputError


def fast(n: int) -> settings:
    """Deterministic settings: same examples on every run, no per-example deadline."""
    return settings(max_examples=n, deadline=None, derandomize=True)


# ------------------------------------------------------------------ mutation helpers


@st.composite
def char_mutations(draw: st.DrawFn, text: str, alphabet: str, max_ops: int = 4) -> str:
    """``text`` with 1..max_ops substitutions, insertions, deletions or span rewrites.

    Characters come mostly from ``alphabet`` (so the result often still parses) and
    sometimes from all of Unicode.
    """
    chars = list(text)
    char = st.one_of(st.sampled_from(alphabet), st.characters())
    for _ in range(draw(st.integers(1, max_ops))):
        op = draw(st.sampled_from(("sub", "ins", "del", "span")))
        if op == "ins" or not chars:
            chars.insert(draw(st.integers(0, len(chars))), draw(char))
            continue
        pos = draw(st.integers(0, len(chars) - 1))
        if op == "sub":
            chars[pos] = draw(char)
        elif op == "del":
            del chars[pos]
        else:
            end = draw(st.integers(pos, min(len(chars), pos + 12)))
            chars[pos:end] = draw(st.lists(char, max_size=12))
    return "".join(chars)


def json_values(*leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Any small JSON value (and any of ``leaves``): what a tampered member may be set to."""
    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
    return st.recursive(
        st.one_of(scalars, *leaves),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=6,
    )


def change_a_member(data: st.DataObject, target: dict[str, Any], values: st.SearchStrategy[Any]) -> str:
    """Removes one member of ``target`` or sets it to one of ``values``; returns its name."""
    member = data.draw(st.sampled_from(sorted(target)), label="member")
    if data.draw(st.booleans(), label="remove"):
        del target[member]
    else:
        target[member] = data.draw(values, label="value")
    return member


def parsed_or_refused(parse: Callable[[], object], member: str) -> None:
    """Runs ``parse``: it may refuse with Yilu's MalformedInputError (counted as an event);
    any other exception (KeyError, TypeError, zlib.error) escapes and fails the property."""
    try:
        parse()
    except MalformedInputError:
        event(f"refused: {member}")
    else:
        event(f"accepted: {member}")
