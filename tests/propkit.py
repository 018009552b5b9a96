"""Hypothesis helpers shared by the property suites (tests/*/test_*properties.py)."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st


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
