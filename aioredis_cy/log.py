"""The loggers of aioredis_cy (aioredis 1.x has the same module, ``aioredis.log``).

Everything logs under ``aioredis_cy`` (``logger``) and its children; the Sentinel
client under ``aioredis_cy.sentinel`` (``sentinel_logger``). Code written for 1.x that
configures the ``aioredis`` logger should configure ``aioredis_cy`` (or import
``logger`` from here) instead.
"""
import logging

__all__ = ["logger", "sentinel_logger"]

logger = logging.getLogger("aioredis_cy")
sentinel_logger = logger.getChild("sentinel")
