"""``Lock``: the name aioredis 1.x exported from ``aioredis.locks``.

aioredis 1.x shipped its own ``asyncio.Lock`` subclass to work around a wake-up bug of
old Python versions (long fixed). Here it is a plain ``asyncio.Lock`` that still accepts
the ``loop`` keyword (ignored), so code written for aioredis 1.x keeps working.
"""
import asyncio

__all__ = ["Lock"]


class Lock(asyncio.Lock):
    """``asyncio.Lock`` accepting and ignoring ``loop=``."""

    def __init__(self, *, loop=None) -> None:
        super().__init__()
