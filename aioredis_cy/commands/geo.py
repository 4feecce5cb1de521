"""Geospatial commands (``GEO*``).

Positions come back as :class:`GeoPoint` ``(longitude, latitude)`` floats. Searches
return plain member lists unless a ``with_*`` flag is set; then every row is a
:class:`GeoMember` ``(member, dist, hash, coord)`` with None for what was not asked.
"""
from __future__ import annotations

from typing import Any, List, NamedTuple, Optional, Union

from .._typing import Arg, CommandsBase, Key, Reply, Value
from ..util import _NOTSET, wait_convert
from ._checks import _check_int, _check_number, _option
from .sorted_set import _EXIST

__all__ = ["GeoCommandsMixin", "GeoPoint", "GeoMember"]

class GeoPoint(NamedTuple):
    """A position: ``(longitude, latitude)``."""

    longitude: float
    latitude: float


class GeoMember(NamedTuple):
    """A search row; the fields not asked for (``with_dist``, ...) are None."""

    member: Value
    dist: Optional[float]
    hash: Optional[int]
    coord: Optional[GeoPoint]

_UNITS = {"m": b"m", "km": b"km", "mi": b"mi", "ft": b"ft"}
_SORT = {"ASC": b"ASC", "DESC": b"DESC", "asc": b"ASC", "desc": b"DESC"}


def _unit(unit):
    try:
        return _UNITS[unit]
    except (KeyError, TypeError):
        raise ValueError(f"unit argument must be 'm', 'km', 'mi' or 'ft', got {unit!r}") from None


def make_geocoord(value):
    """``[lon, lat]`` -> :class:`GeoPoint` of floats; None stays None."""
    if value is None:
        return None
    return GeoPoint(float(value[0]), float(value[1]))


def make_geodist(value):
    """A distance reply as float; None (missing member) stays None."""
    return None if value is None else float(value)


def make_geopos(value):
    """GEOPOS reply -> list of :class:`GeoPoint` or None."""
    return [make_geocoord(item) for item in value]


def make_geomember(value, with_dist, with_hash, with_coord):
    """Rows of a ``WITH*`` search reply -> list of :class:`GeoMember`.

    Redis always orders the extras as distance, hash, coordinates.
    """
    members = []
    for row in value:
        extras = iter(row[1:])
        dist = float(next(extras)) if with_dist else None
        hash_ = int(next(extras)) if with_hash else None
        coord = make_geocoord(next(extras)) if with_coord else None
        members.append(GeoMember(row[0], dist, hash_, coord))
    return members


def _with_args(with_dist, with_hash, with_coord):
    flags = ((with_dist, b"WITHDIST"), (with_hash, b"WITHHASH"), (with_coord, b"WITHCOORD"))
    return [word for flag, word in flags if flag]


def _count_sort_args(count, sort, any_=False):
    """``[COUNT n [ANY]] [ASC|DESC]``; a falsy count means no limit, as in aioredis 1.x."""
    args = []
    if count:
        _check_int("count", count, 1)
        args += [b"COUNT", count]
        if any_:
            args.append(b"ANY")
    elif any_:
        raise ValueError("any needs count")
    if sort:
        args.append(_option(_SORT, "sort", sort))
    return args


def _radius_args(radius, unit, with_dist, with_hash, with_coord, count, sort):
    _check_number("radius", radius)
    args = [radius, _unit(unit), *_with_args(with_dist, with_hash, with_coord)]
    return args + _count_sort_args(count, sort)


def _search_args(member, longitude, latitude, radius, width, height, unit, count, any_, sort):
    """The FROM*/BY*/COUNT/sort part shared by GEOSEARCH and GEOSEARCHSTORE."""
    if member is not None:
        if longitude is not None or latitude is not None:
            raise ValueError("give either member or longitude/latitude, not both")
        args = [b"FROMMEMBER", member]
    elif longitude is None or latitude is None:
        raise ValueError("give either member or both longitude and latitude")
    else:
        _check_number("longitude", longitude)
        _check_number("latitude", latitude)
        args = [b"FROMLONLAT", longitude, latitude]
    if radius is not None:
        if width is not None or height is not None:
            raise ValueError("give either radius or width/height, not both")
        _check_number("radius", radius)
        args += [b"BYRADIUS", radius]
    elif width is None or height is None:
        raise ValueError("give either radius or both width and height")
    else:
        _check_number("width", width)
        _check_number("height", height)
        args += [b"BYBOX", width, height]
    args.append(_unit(unit))
    return args + _count_sort_args(count, sort, any_)


def _members_reply(fut, with_dist, with_hash, with_coord):
    if with_dist or with_hash or with_coord:
        return wait_convert(
            fut, make_geomember, with_dist=with_dist, with_hash=with_hash, with_coord=with_coord
        )
    return fut


class GeoCommandsMixin(CommandsBase):
    """Geo commands mixin (https://redis.io/commands/#geo)."""

    def geoadd(self, key: Key, longitude: float, latitude: float, member: Arg, *args: Union[float, Arg],
               exist: Optional[str] = None, changed: bool = False, **kwargs: Any) -> Reply[int]:
        """Add ``longitude, latitude, member`` triples; returns the number added.

        ``exist`` is ``ZSET_IF_EXIST`` (XX) or ``ZSET_IF_NOT_EXIST`` (NX); ``changed``
        also counts moved members (both Redis 6.2+).
        """
        if len(args) % 3 != 0:
            raise TypeError("args must be (longitude, latitude, member) triples")
        options = []
        if exist is not None:
            options.append(_option(_EXIST, "exist", exist))
        if changed:
            options.append(b"CH")
        return self.execute(b"GEOADD", key, *options, longitude, latitude, member, *args, **kwargs)

    def geohash(self, key: Key, member: Arg, *members: Arg, **kwargs: Any) -> Reply[List[Optional[Value]]]:
        """Geohash strings of members (None for a missing member)."""
        return self.execute(b"GEOHASH", key, member, *members, **kwargs)

    def geopos(self, key: Key, member: Arg, *members: Arg, **kwargs: Any) -> Reply[List[Optional[GeoPoint]]]:
        """Positions of members as :class:`GeoPoint` (None for a missing member)."""
        return self._execute_converted(make_geopos, b"GEOPOS", key, member, *members, **kwargs)

    def geodist(self, key: Key, member1: Arg, member2: Arg, unit: str = "m") -> Reply[Optional[float]]:
        """Distance between two members as float, or None if one is missing."""
        return self._execute_converted(make_geodist, b"GEODIST", key, member1, member2, _unit(unit))

    def georadius(
        self,
        key: Key,
        longitude: float,
        latitude: float,
        radius: float,
        unit: str = "m",
        *,
        with_dist: bool = False,
        with_hash: bool = False,
        with_coord: bool = False,
        count: Optional[int] = None,
        sort: Optional[str] = None,
        encoding: Optional[str] = _NOTSET,
    ) -> Reply[List[Any]]:
        """Members within ``radius`` of a point.

        Returns a list of members, or of :class:`GeoMember` when a ``with_*`` flag is
        set. ``sort`` is ``'ASC'`` or ``'DESC'``.

        :raises TypeError: radius is not int or float, count is not int
        :raises ValueError: bad unit or sort
        """
        args = _radius_args(radius, unit, with_dist, with_hash, with_coord, count, sort)
        fut = self.execute(b"GEORADIUS", key, longitude, latitude, *args, encoding=encoding)
        return _members_reply(fut, with_dist, with_hash, with_coord)

    def georadiusbymember(
        self,
        key: Key,
        member: Arg,
        radius: float,
        unit: str = "m",
        *,
        with_dist: bool = False,
        with_hash: bool = False,
        with_coord: bool = False,
        count: Optional[int] = None,
        sort: Optional[str] = None,
        encoding: Optional[str] = _NOTSET,
    ) -> Reply[List[Any]]:
        """Members within ``radius`` of another member (reply as :meth:`georadius`)."""
        args = _radius_args(radius, unit, with_dist, with_hash, with_coord, count, sort)
        fut = self.execute(b"GEORADIUSBYMEMBER", key, member, *args, encoding=encoding)
        return _members_reply(fut, with_dist, with_hash, with_coord)

    def geosearch(
        self,
        key: Key,
        *,
        member: Optional[Arg] = None,
        longitude: Optional[float] = None,
        latitude: Optional[float] = None,
        radius: Optional[float] = None,
        width: Optional[float] = None,
        height: Optional[float] = None,
        unit: str = "m",
        with_dist: bool = False,
        with_hash: bool = False,
        with_coord: bool = False,
        count: Optional[int] = None,
        any: bool = False,
        sort: Optional[str] = None,
        encoding: Optional[str] = _NOTSET,
    ) -> Reply[List[Any]]:
        """Members inside a circle (``radius``) or box (``width``, ``height``) around
        ``member`` or a ``longitude``/``latitude`` point (Redis 6.2+).

        ``any`` returns the first ``count`` matches found rather than the nearest.
        Reply as :meth:`georadius`.
        """
        args = _search_args(member, longitude, latitude, radius, width, height, unit, count, any, sort)
        args += _with_args(with_dist, with_hash, with_coord)
        fut = self.execute(b"GEOSEARCH", key, *args, encoding=encoding)
        return _members_reply(fut, with_dist, with_hash, with_coord)

    def geosearchstore(
        self,
        destkey: Key,
        key: Key,
        *,
        member: Optional[Arg] = None,
        longitude: Optional[float] = None,
        latitude: Optional[float] = None,
        radius: Optional[float] = None,
        width: Optional[float] = None,
        height: Optional[float] = None,
        unit: str = "m",
        count: Optional[int] = None,
        any: bool = False,
        sort: Optional[str] = None,
        storedist: bool = False,
    ) -> Reply[int]:
        """Store the result of :meth:`geosearch` in ``destkey``; returns its size (Redis 6.2+).

        With ``storedist`` the stored scores are the distances instead of positions.
        """
        args = _search_args(member, longitude, latitude, radius, width, height, unit, count, any, sort)
        if storedist:
            args.append(b"STOREDIST")
        return self.execute(b"GEOSEARCHSTORE", destkey, key, *args)
