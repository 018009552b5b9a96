"""Mutated QR texts and tokens: the verifier always answers, never raises, never accepts a change."""

from __future__ import annotations

import random

from protocol import yl1
from protocol.encoding import B45_ALPHABET
from testkit import NOW, World
from verifier import Verifier, load_bundle


def test_mutations_never_raise_and_never_accept_a_changed_certificate(world: World) -> None:
    token = world.issue()
    text = yl1.encode(token)
    verifier = Verifier(load_bundle(world.bundle(), pinned_roots=[world.root.public]), country="KZ")
    rng = random.Random(20261127)
    accepted_changes = 0
    for _ in range(1500):
        chars = list(text if rng.random() < 0.7 else token)
        for _ in range(rng.randint(1, 4)):
            op = rng.random()
            pos = rng.randrange(4, len(chars))
            if op < 0.5:
                chars[pos] = rng.choice(B45_ALPHABET + "abcxyz_-.")
            elif op < 0.75:
                del chars[pos]
            else:
                chars.insert(pos, rng.choice(B45_ALPHABET))
        mutated = "".join(chars)
        result = verifier.verify(mutated, at=NOW)  # must not raise
        assert result.reasons, mutated
        if result.accepted:
            decoded = yl1.decode(mutated) if mutated.startswith("YL1:") else mutated
            accepted_changes += decoded != token
    assert accepted_changes == 0
