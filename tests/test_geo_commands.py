"""Geo commands against a real server, on a single connection and on a pool."""
import pytest

from aioredis_cy.commands import GeoMember, GeoPoint
from aioredis_cy.errors import ReplyError

from .helpers import require

PALERMO = (13.361389, 38.115556)
CATANIA = (15.087269, 37.502669)


def approx_point(point, expected):
    assert isinstance(point, GeoPoint)
    assert point == pytest.approx(expected, abs=1e-5)


async def add_sicily(redis, key="Sicily"):
    assert await redis.geoadd(key, *PALERMO, "Palermo", *CATANIA, "Catania") == 2


async def test_geoadd(redis, server):
    assert await redis.geoadd("g", *PALERMO, "Palermo") == 1
    assert await redis.geoadd("g", *PALERMO, "Palermo", *CATANIA, "Catania") == 1
    assert await redis.zcard("g") == 2
    require(server, 6, 2)
    assert await redis.geoadd("g", 13.5, 38.1, "Palermo", exist=redis.ZSET_IF_NOT_EXIST) == 0
    assert await redis.geoadd("g", 13.5, 38.1, "Palermo", exist=redis.ZSET_IF_EXIST, changed=True) == 1
    assert await redis.geoadd("g", 13.5, 38.1, "Nowhere", exist=redis.ZSET_IF_EXIST) == 0
    approx_point((await redis.geopos("g", "Palermo"))[0], (13.5, 38.1))
    with pytest.raises(TypeError):
        redis.geoadd("g", *PALERMO, "Palermo", 1.0)
    with pytest.raises(ValueError):
        redis.geoadd("g", *PALERMO, "Palermo", exist="NX")
    with pytest.raises(ReplyError):
        await redis.geoadd("g", 200, 100, "Outside")
    assert await redis.zcard("g") == 2


async def test_geohash(redis):
    await add_sicily(redis)
    assert await redis.geohash("Sicily", "Palermo", "Catania", "x") == [b"sqc8b49rny0", b"sqdtr74hyu0", None]
    assert await redis.geohash("Sicily", "Palermo", encoding="utf-8") == ["sqc8b49rny0"]


async def test_geopos(redis):
    await add_sicily(redis)
    palermo, missing, catania = await redis.geopos("Sicily", "Palermo", "x", "Catania")
    approx_point(palermo, PALERMO)
    approx_point(catania, CATANIA)
    assert missing is None
    assert isinstance(palermo.longitude, float) and isinstance(palermo.latitude, float)
    (point,) = await redis.geopos("Sicily", "Palermo", encoding="utf-8")
    approx_point(point, PALERMO)
    assert await redis.geopos("nokey", "Palermo") == [None]


async def test_geodist(redis):
    await add_sicily(redis)
    assert await redis.geodist("Sicily", "Palermo", "Catania") == pytest.approx(166274.1516)
    assert await redis.geodist("Sicily", "Palermo", "Catania", "km") == pytest.approx(166.2742)
    assert await redis.geodist("Sicily", "Palermo", "Catania", unit="mi") == pytest.approx(103.3182)
    assert await redis.geodist("Sicily", "Palermo", "Palermo") == 0.0
    assert await redis.geodist("Sicily", "Palermo", "x") is None
    with pytest.raises(ValueError):
        redis.geodist("Sicily", "Palermo", "Catania", "miles")
    assert await redis.geodist("Sicily", "Palermo", "Catania", "ft") == pytest.approx(545519.0)


async def test_georadius(redis):
    await add_sicily(redis)
    assert await redis.georadius("Sicily", 15, 37, 200, "km", sort="ASC") == [b"Catania", b"Palermo"]
    assert await redis.georadius("Sicily", 15, 37, 100, "km") == [b"Catania"]
    assert await redis.georadius("Sicily", 15, 37, 200, "km", count=1, sort="DESC") == [b"Palermo"]
    assert await redis.georadius("Sicily", 15, 37, 200, "km", count=0, sort="ASC", encoding="utf-8") == [
        "Catania",
        "Palermo",
    ]
    res = await redis.georadius("Sicily", 15, 37, 200, "km", with_dist=True, sort="ASC")
    assert res == [
        GeoMember(b"Catania", pytest.approx(56.4413), None, None),
        GeoMember(b"Palermo", pytest.approx(190.4424), None, None),
    ]
    res = await redis.georadius("Sicily", 15, 37, 200, "km", with_hash=True, sort="ASC")
    assert res == [GeoMember(b"Catania", None, 3479447370796909, None),
                   GeoMember(b"Palermo", None, 3479099956230698, None)]
    (catania,) = await redis.georadius("Sicily", 15, 37, 100, "km", with_coord=True)
    assert catania.member == b"Catania" and catania.dist is None and catania.hash is None
    approx_point(catania.coord, CATANIA)
    (palermo,) = await redis.georadius(
        "Sicily", 15, 37, 200, "km", with_dist=True, with_hash=True, with_coord=True, count=1, sort="DESC",
        encoding="utf-8",
    )
    assert palermo[:3] == ("Palermo", pytest.approx(190.4424), 3479099956230698)
    approx_point(palermo.coord, PALERMO)
    assert await redis.georadius("nokey", 15, 37, 200, "km", with_dist=True) == []


async def test_georadiusbymember(redis):
    await add_sicily(redis)
    res = await redis.georadiusbymember("Sicily", "Palermo", 200, "km", sort="ASC")
    assert res == [b"Palermo", b"Catania"]
    assert await redis.georadiusbymember("Sicily", "Palermo", 10, "km") == [b"Palermo"]
    res = await redis.georadiusbymember("Sicily", "Palermo", 200, "km", with_dist=True, sort="DESC", count=1)
    assert res == [GeoMember(b"Catania", pytest.approx(166.2742), None, None)]
    res = await redis.georadiusbymember(
        "Sicily", "Palermo", 200, "km", with_hash=True, with_coord=True, sort="ASC", encoding="utf-8"
    )
    assert [(m.member, m.dist, m.hash) for m in res] == [
        ("Palermo", None, 3479099956230698),
        ("Catania", None, 3479447370796909),
    ]
    approx_point(res[1].coord, CATANIA)
    with pytest.raises(ReplyError):
        await redis.georadiusbymember("Sicily", "Nowhere", 200, "km")


@pytest.mark.parametrize("method", ["georadius", "georadiusbymember"])
async def test_georadius_bad_arguments(redis, method):
    await add_sicily(redis)
    call = getattr(redis, method)
    where = (15, 37) if method == "georadius" else ("Palermo",)
    with pytest.raises(TypeError):
        call("Sicily", *where, "200", "km")
    with pytest.raises(ValueError):
        call("Sicily", *where, 200, "kilometers")
    with pytest.raises(TypeError):
        call("Sicily", *where, 200, "km", count="1")
    with pytest.raises(ValueError):
        call("Sicily", *where, 200, "km", count=-1)
    with pytest.raises(ValueError):
        call("Sicily", *where, 200, "km", sort="UP")
    assert await call("Sicily", *where, 200, "km", sort="asc") != []


async def test_geosearch(redis, server):
    require(server, 6, 2)
    await add_sicily(redis)
    assert await redis.geosearch("Sicily", longitude=15, latitude=37, radius=200, unit="km", sort="ASC") == [
        b"Catania",
        b"Palermo",
    ]
    res = await redis.geosearch("Sicily", member="Palermo", width=400, height=400, unit="km", sort="DESC")
    assert res == [b"Catania", b"Palermo"]
    assert await redis.geosearch("Sicily", member="Palermo", radius=10, unit="km", encoding="utf-8") == [
        "Palermo"
    ]
    res = await redis.geosearch(
        "Sicily", longitude=15, latitude=37, radius=200, unit="km", with_dist=True, with_hash=True,
        with_coord=True, sort="ASC", count=1,
    )
    assert len(res) == 1 and res[0][:3] == (b"Catania", pytest.approx(56.4413), 3479447370796909)
    approx_point(res[0].coord, CATANIA)
    res = await redis.geosearch(
        "Sicily", member="Catania", radius=500, unit="km", count=2, any=True, with_dist=True
    )
    assert sorted(m.member for m in res) == [b"Catania", b"Palermo"]
    assert all(m.hash is None and m.coord is None for m in res)
    assert await redis.geosearch("nokey", longitude=15, latitude=37, radius=1) == []


async def test_geosearchstore(redis, server):
    require(server, 6, 2)
    await add_sicily(redis)
    assert await redis.geosearchstore("dst", "Sicily", member="Palermo", radius=300, unit="km") == 2
    approx_point((await redis.geopos("dst", "Catania"))[0], CATANIA)
    n = await redis.geosearchstore(
        "dst", "Sicily", longitude=15, latitude=37, width=500, height=500, unit="km", count=1, sort="DESC",
        storedist=True,
    )
    assert n == 1
    assert await redis.zrange("dst", withscores=True) == [(b"Palermo", pytest.approx(190.4424))]
    assert await redis.geosearchstore("dst", "Sicily", member="Palermo", radius=300, count=1, any=True) == 1


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        ({"radius": 1}, ValueError),
        ({"member": "Palermo"}, ValueError),
        ({"member": "Palermo", "longitude": 15, "latitude": 37, "radius": 1}, ValueError),
        ({"longitude": 15, "radius": 1}, ValueError),
        ({"member": "Palermo", "radius": 1, "width": 5, "height": 5}, ValueError),
        ({"member": "Palermo", "width": 5}, ValueError),
        ({"member": "Palermo", "radius": "1"}, TypeError),
        ({"member": "Palermo", "width": 5, "height": None}, ValueError),
        ({"member": "Palermo", "width": "5", "height": 5}, TypeError),
        ({"longitude": "15", "latitude": 37, "radius": 1}, TypeError),
        ({"member": "Palermo", "radius": 1, "unit": "yd"}, ValueError),
        ({"member": "Palermo", "radius": 1, "any": True}, ValueError),
        ({"member": "Palermo", "radius": 1, "count": 1.5}, TypeError),
        ({"member": "Palermo", "radius": 1, "sort": "random"}, ValueError),
    ],
)
async def test_geosearch_bad_arguments(redis, kwargs, exc):
    with pytest.raises(exc):
        redis.geosearch("Sicily", **kwargs)
    with pytest.raises(exc):
        redis.geosearchstore("dst", "Sicily", **kwargs)
    await add_sicily(redis)


async def test_wrong_type(redis):
    await redis.execute(b"SET", "str", "x")
    for call in (
        lambda: redis.geoadd("str", *PALERMO, "Palermo"),
        lambda: redis.geopos("str", "Palermo"),
        lambda: redis.geodist("str", "a", "b"),
        lambda: redis.georadius("str", 15, 37, 10, with_dist=True),
    ):
        with pytest.raises(ReplyError, match="WRONGTYPE"):
            await call()
    await add_sicily(redis)


async def test_multi_exec(redis):
    tr = redis.multi_exec()
    f1 = tr.geoadd("Sicily", *PALERMO, "Palermo", *CATANIA, "Catania")
    f2 = tr.geodist("Sicily", "Palermo", "Catania", "km")
    f3 = tr.geopos("Sicily", "Palermo", "x")
    f4 = tr.georadius("Sicily", 15, 37, 200, "km", with_dist=True, sort="ASC")
    f5 = tr.geohash("Sicily", "Palermo")
    await tr.execute()
    assert await f1 == 2
    assert await f2 == pytest.approx(166.2742)
    palermo, missing = await f3
    approx_point(palermo, PALERMO)
    assert missing is None
    assert [m.member for m in await f4] == [b"Catania", b"Palermo"]
    assert await f5 == [b"sqc8b49rny0"]


async def test_pipeline(redis, server):
    require(server, 6, 2)
    pipe = redis.pipeline()
    f1 = pipe.geoadd("Sicily", *PALERMO, "Palermo", *CATANIA, "Catania")
    f2 = pipe.georadiusbymember("Sicily", "Palermo", 200, "km", sort="ASC", encoding="utf-8")
    f3 = pipe.geosearch("Sicily", member="Palermo", radius=200, unit="km", with_hash=True, sort="ASC")
    f4 = pipe.geosearchstore("dst", "Sicily", member="Palermo", radius=200, unit="km")
    f5 = pipe.geodist("Sicily", "Palermo", "x")
    await pipe.execute()
    assert await f1 == 2
    assert await f2 == ["Palermo", "Catania"]
    assert await f3 == [GeoMember(b"Palermo", None, 3479099956230698, None),
                        GeoMember(b"Catania", None, 3479447370796909, None)]
    assert await f4 == 2
    assert await f5 is None
