"""Argument checks shared by the command mixins.

A wrong type raises ``TypeError``, a value out of range ``ValueError``; both happen before
anything is sent. ``bool`` is never accepted where a number is expected.
"""


def _is_number(value) -> bool:
    """True for an int or float that is not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_number(name, value):
    """TypeError unless ``value`` is an int or float (not a bool)."""
    if not _is_number(value):
        raise TypeError(f"{name} argument must be int or float, got {value!r}")


def _check_int(name, value, minimum=None):
    """TypeError unless ``value`` is an int (not a bool); ValueError if below ``minimum``."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} argument must be int, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} argument must be >= {minimum}, got {value!r}")


def _check_timeout(timeout):
    """TypeError unless ``timeout`` is a number; ValueError if it is negative."""
    _check_number("timeout", timeout)
    if timeout < 0:
        raise ValueError(f"timeout argument must be >= 0, got {timeout!r}")


def _option(table, name, value):
    """The protocol word for a ``ZSET_*``-style constant; ValueError if unknown."""
    try:
        return table[value]
    except (KeyError, TypeError):
        raise ValueError(f"invalid {name} argument: {value!r}") from None
