"""Opt-in splitting of multi-key commands per slot: the ``*_nonatomic`` methods of RedisCluster.

The plain ``mget``/``mset``/``delete``/... stay atomic as in 1.x, so keys of several slots
raise :class:`CrossSlotError`. Their ``*_nonatomic`` twins send one command per slot
(concurrently, pipelined per node) and merge the replies in the caller's order; each
per-slot part is atomic, the whole is not (another client may see some parts done).
"""
import asyncio
from collections.abc import Mapping
from itertools import chain
from typing import Dict, List

from ..util import _NOTSET
from .keys import slot_of

__all__ = ["NonatomicCommandsMixin"]


def _positions_by_slot(keys) -> List[List[int]]:
    """The positions of ``keys`` grouped by slot, each group and the groups in first-seen order."""
    groups: Dict[int, List[int]] = {}
    for position, key in enumerate(keys):
        groups.setdefault(slot_of(key), []).append(position)
    return list(groups.values())


async def _sum(replies) -> int:
    return sum(await asyncio.gather(*replies))


async def _all_true(replies) -> bool:
    return all(await asyncio.gather(*replies))


async def _in_key_order(count: int, groups: List[List[int]], replies) -> list:
    values: list = [None] * count
    for group, reply in zip(groups, await asyncio.gather(*replies)):
        for position, value in zip(group, reply):
            values[position] = value
    return values


class NonatomicCommandsMixin:
    """``mget``/``mset``/``delete``/``exists``/``unlink``/``touch`` split per slot."""

    def _per_slot(self, command, keys, **kwargs):
        """``(groups, replies)``: ``command`` sent once per slot with that slot's keys."""
        groups = _positions_by_slot(keys)
        return groups, [self.execute(command, *(keys[i] for i in group), **kwargs) for group in groups]

    def mget_nonatomic(self, key, *keys, encoding=_NOTSET):
        """Values of the keys (None where missing), in key order; one MGET per slot."""
        keys = (key, *keys)
        groups, replies = self._per_slot(b"MGET", keys, encoding=encoding)
        return _in_key_order(len(keys), groups, replies)

    def mset_nonatomic(self, *args):
        """Set keys as :meth:`mset` takes them (pairs or a mapping); one MSET per slot; True when all did."""
        if len(args) == 1 and isinstance(args[0], Mapping):
            args = tuple(chain.from_iterable(args[0].items()))
        if not args or len(args) % 2:
            raise TypeError("mset_nonatomic needs a non-empty mapping or key/value pairs")
        pairs = list(zip(args[::2], args[1::2]))
        groups = _positions_by_slot([pair[0] for pair in pairs])
        return _all_true([self.mset(*chain.from_iterable(pairs[i] for i in group)) for group in groups])

    def delete_nonatomic(self, key, *keys):
        """Delete keys, one DEL per slot; returns how many existed (summed)."""
        return _sum(self._per_slot(b"DEL", (key, *keys))[1])

    def unlink_nonatomic(self, key, *keys):
        """Unlink keys, one UNLINK per slot; returns how many existed (summed)."""
        return _sum(self._per_slot(b"UNLINK", (key, *keys))[1])

    def exists_nonatomic(self, key, *keys):
        """How many of the keys exist (a key given twice counts twice), one EXISTS per slot, summed."""
        return _sum(self._per_slot(b"EXISTS", (key, *keys))[1])

    def touch_nonatomic(self, key, *keys):
        """Touch keys, one TOUCH per slot; returns how many exist (summed)."""
        return _sum(self._per_slot(b"TOUCH", (key, *keys))[1])
