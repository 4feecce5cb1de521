"""Test harness: real redis-server processes, both event loops, every reader.

- Every ``async def`` test runs under the default asyncio loop and under uvloop.
- ``server`` is one session-wide server; ``start_server(name, *config_lines)`` starts
  (once per name) another one with the config a test needs.
- ``create_connection``/``create_pool`` (connection-level) run with every reader
  (``parser``: Cython, pure Python, hiredis when installed).
- Whatever a factory creates is closed at teardown, and any exception the loop
  reports as unhandled fails the test.
"""
import asyncio
import gc

import pytest
import pytest_asyncio.plugin
import uvloop

import aioredis_cy
from aioredis_cy._cluster_server import LocalCluster as _LocalCluster
from aioredis_cy._server import LocalServer, find_server_binary
from aioredis_cy.parser import reader_class

from .fault_proxy import FaultProxy
from .helpers import PROTOCOL_DEFAULTS
from .tls_proxy import TLSFrontedServer, binary_has_tls

try:
    import hiredis  # noqa: F401
except ImportError:
    READERS = ["cython", "python"]
else:
    READERS = ["cython", "python", "hiredis"]


if hasattr(getattr(pytest_asyncio.plugin, "PytestAsyncioSpecs", None), "pytest_asyncio_loop_factories"):
    def pytest_asyncio_loop_factories(config, item):
        return {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}
else:
    # pytest-asyncio before 1.3 (the last one for Python 3.9) has no loop-factory hook:
    # parametrize the loop policy instead.
    @pytest.fixture(scope="session", params=["asyncio", "uvloop"])
    def event_loop_policy(request):
        return asyncio.DefaultEventLoopPolicy() if request.param == "asyncio" else uvloop.EventLoopPolicy()


def _make_server(name, config_lines=(), **options):
    """A LocalServer (not started); ``options`` go to LocalServer (``sentinel``, ``tls``).

    With ``tls`` and a binary built without TLS, the server listens in plain TCP behind
    a TLS-terminating proxy (see tls_proxy.py).
    """
    if options.get("tls") is not None and not binary_has_tls(find_server_binary()):
        return TLSFrontedServer(name, config_lines, **options)
    return LocalServer(name, config_lines, **options)


class _Servers:
    """The session's servers by name; all stopped by PID at the end."""

    def __init__(self):
        self.by_name = {}

    def start(self, name, *config_lines, **options):
        """Start (once per name) a server made by _make_server."""
        server = self.by_name.get(name)
        if server is None:
            server = self.by_name[name] = _make_server(name, config_lines, **options)
        return server.start()

    def stop_all(self):
        for server in self.by_name.values():
            server.cleanup()
        self.by_name.clear()


@pytest.fixture(scope="session")
def _servers():
    servers = _Servers()
    yield servers
    servers.stop_all()


@pytest.fixture(scope="session")
def start_server(_servers):
    """Factory: ``start_server(name, *config_lines, sentinel=False, tls=None)`` -> a running LocalServer."""
    return _servers.start


@pytest.fixture(scope="session")
def tls_certs(tmp_path_factory):
    """A CA, server and client certificates made for this session (see tls_certs.py)."""
    from .tls_certs import make_certificates

    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def server(start_server):
    """The default server shared by the session."""
    return start_server("default")


@pytest.fixture(params=READERS)
def parser(request):
    """The reader class under test: Cython, pure Python or hiredis."""
    return reader_class(request.param)


class _LoopProblems:
    """Collects what the loop reports as unhandled, so the test can fail on it."""

    def __init__(self, loop):
        self.loop = loop
        self.reports = []
        self.previous = loop.get_exception_handler()
        loop.set_exception_handler(self._handle)

    def _handle(self, loop, context):
        self.reports.append(context)

    def check(self):
        gc.collect()
        self.loop.set_exception_handler(self.previous)
        problems = [
            f"{context.get('message')}: {context.get('exception')!r}" for context in self.reports
        ]
        assert not problems, f"unhandled exceptions reported by the loop: {problems}"


@pytest.fixture
async def _closing():
    """Objects to close at teardown, and the unhandled-exception check."""
    problems = _LoopProblems(asyncio.get_running_loop())
    objects = []
    yield objects
    for obj in reversed(objects):
        obj.close()
    for obj in reversed(objects):
        await obj.wait_closed()
    problems.check()


def _closing_factory(create, closing, server, **defaults):
    """An async factory calling ``create(address or the default server, **kwargs)``.

    What it creates is closed at teardown; ``defaults`` fill keywords not given (the
    factories below pass ``PROTOCOL_DEFAULTS``: protocol=3 under AIOREDIS_CY_TEST_PROTOCOL=3).
    """
    async def factory(address=None, **kwargs):
        for name, value in defaults.items():
            kwargs.setdefault(name, value)
        obj = await create(address or server.tcp_address, **kwargs)
        closing.append(obj)
        return obj

    return factory


@pytest.fixture
def create_connection(_closing, server, parser):
    """``await create_connection(address=None, **kw)`` with the parametrized reader."""
    return _closing_factory(aioredis_cy.create_connection, _closing, server, parser=parser,
                            **PROTOCOL_DEFAULTS)


@pytest.fixture
def create_pool(_closing, server, parser):
    """``await create_pool(address=None, **kw)`` with the parametrized reader."""
    return _closing_factory(aioredis_cy.create_pool, _closing, server, parser=parser, **PROTOCOL_DEFAULTS)


@pytest.fixture
def create_redis(_closing, server):
    """``await create_redis(address=None, **kw)``."""
    return _closing_factory(aioredis_cy.create_redis, _closing, server, **PROTOCOL_DEFAULTS)


@pytest.fixture
def create_redis_pool(_closing, server):
    """``await create_redis_pool(address=None, **kw)``."""
    return _closing_factory(aioredis_cy.create_redis_pool, _closing, server, **PROTOCOL_DEFAULTS)


@pytest.fixture(params=["conn", "pool"])
async def redis(request, create_redis, create_redis_pool, server):
    """A Redis client on a single connection or on a pool, its db flushed."""
    factory = create_redis if request.param == "conn" else create_redis_pool
    client = await factory(server.tcp_address)
    await client.execute(b"FLUSHDB")
    return client


@pytest.fixture
async def fault_proxy(server):
    """Factory: ``await fault_proxy(target=None)`` -> a started FaultProxy to the server."""
    proxies = []

    async def factory(target=None):
        proxy = await FaultProxy(target or server.tcp_address).start()
        proxies.append(proxy)
        return proxy

    yield factory
    for proxy in proxies:
        await proxy.close()


# -- Redis Cluster (used only by tests/test_cluster_*.py) ------------------------------------

class LocalCluster(_LocalCluster):
    """The local cluster (aioredis_cy._cluster_server) with what the tests do to it."""

    def owner_of(self, slot):
        """The LocalServer that is primary for ``slot``."""
        for node in self.nodes:
            if node.process is None:
                continue
            if self.cli(node, "cluster", "countkeysinslot", slot) is not None and \
                    "myself,master" in self._myself(node) and self._serves(node, slot):
                return node
        raise LookupError(slot)

    def _myself(self, node):
        return next(line for line in self.cli(node, "cluster", "nodes").splitlines() if "myself" in line)

    def node_id(self, node):
        return self._myself(node).split()[0]

    def _serves(self, node, slot):
        for part in self._myself(node).split()[8:]:
            if part.startswith("["):
                continue
            start, _, end = part.partition("-")
            if int(start) <= slot <= int(end or start):
                return True
        return False

    def begin_migration(self, slot, source, target):
        """Mark ``slot`` as migrating from ``source`` to ``target`` (keys not moved yet)."""
        self.cli(target, "cluster", "setslot", slot, "importing", self.node_id(source))
        self.cli(source, "cluster", "setslot", slot, "migrating", self.node_id(target))

    def finish_migration(self, slot, source, target):
        """MIGRATE the slot's keys to ``target``, give it the slot, and wait until all nodes agree."""
        while True:
            keys = self.cli(source, "cluster", "getkeysinslot", slot, 1000).split()
            if not keys:
                break
            self.cli(source, "migrate", "127.0.0.1", target.port, "", 0, 5000, "keys", *keys)
        for node in (target, source):
            try:
                self.cli(node, "cluster", "setslot", slot, "node", self.node_id(target))
            except aioredis_cy.ReplyError as exc:
                # A source that gave away its last slot may have turned into a replica of the
                # target already (cluster-allow-replica-migration): it knows.
                if node is target or "only with masters" not in str(exc):
                    raise
        self.wait_stable()

    def move_slot(self, slot, source, target):
        """A complete reshard of one slot."""
        self.begin_migration(slot, source, target)
        self.finish_migration(slot, source, target)

    def move_slot_back(self, slot, source, target):
        """Undo a move of ``slot`` from ``source`` to ``target``, whether it finished or not."""
        if self.owner_of(slot) is source:
            self.finish_migration(slot, source, target)
        self.move_slot(slot, target, source)

    def fail_over(self, replica, *, takeover=False):
        """Make ``replica`` the primary of its shard by CLUSTER FAILOVER, once it is in sync.

        A plain manual failover needs the other primaries' votes and gives up after 5 s; they
        refuse to vote twice for one shard within twice the node timeout, so one that follows a
        recent failover of the same shard can stall. It is then sent again as TAKEOVER (no vote),
        which ``takeover=True`` asks for at once.
        """
        self.wait_until(lambda: "slave" in self._myself(replica).split()[2]
                        and self.replication_ready(replica), "the replica never synced")
        promoted = lambda: "master" in self._myself(replica).split()[2]   # noqa: E731
        modes = [("takeover",)] if takeover else [(), ("takeover",)]
        for mode in modes:
            self.cli(replica, "cluster", "failover", *mode)
            try:
                self.wait_until(promoted, "the replica did not take over", timeout=10)
                break
            except RuntimeError:
                if mode == modes[-1]:
                    raise
        self.wait_stable()

    def primaries(self):
        return [node for node in self.nodes if node.process is not None and "master" in self._myself(node)]

    def replicas_of(self, primary):
        """The running replicas of ``primary``."""
        primary_id = self.node_id(primary)
        return [node for node in self.nodes if node.process is not None and node is not primary
                and self._myself(node).split()[3] == primary_id]

    def commandstats(self, node):
        """``{command: calls}`` from INFO commandstats (subcommands as ``cluster|slots``)."""
        stats = {}
        for line in self.cli(node, "info", "commandstats").splitlines():
            if line.startswith("cmdstat_"):
                name, _, fields = line[len("cmdstat_"):].partition(":")
                stats[name] = int(fields.split(",")[0].split("=")[1])
        return stats

    def calls(self, command):
        """How many times the running nodes together ran ``command`` (e.g. ``cluster|slots``)."""
        return sum(self.commandstats(node).get(command, 0) for node in self.running())

    def clients(self, node):
        """The CLIENT LIST lines of ``node`` (the one asking excluded)."""
        lines = self.cli(node, "client", "list").splitlines()
        return [line for line in lines if "cmd=client|list" not in line]

    def add_node(self):
        """Start one more cluster node (no slots) and make it meet the others."""
        node = self.new_node(f"{self.nodes[0].name}-extra{len(self.nodes)}").start()
        self.nodes.append(node)
        self.meet(node)
        count = len(self.running())
        self.wait_until(lambda: all(len(self.cli(other, "cluster", "nodes").splitlines()) == count
                                    and "handshake" not in self.cli(other, "cluster", "nodes")
                                    for other in self.running()), "the new node was not met")
        self.wait_stable()
        return node

    def remove_node(self, node):
        """Make every other node forget ``node`` (it must serve no slot), then stop it."""
        node_id = self.node_id(node)
        for other in self.running():
            if other is not node:
                self.cli(other, "cluster", "forget", node_id)
        node.cleanup()
        self.nodes.remove(node)
        self.wait_stable()

    def stop_all(self):
        for node in self.nodes:
            node.cleanup()


@pytest.fixture(scope="session")
def redis_cluster_servers():
    """The session's 6-node cluster, started on first use."""
    cluster = LocalCluster("cluster")
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop_all()


@pytest.fixture(scope="session")
def spare_redis_cluster():
    """A second 6-node cluster for tests that kill nodes or swap roles; they leave it
    serving every slot, with 3 primaries and 3 replicas, roles possibly swapped."""
    cluster = LocalCluster("spare")
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop_all()


@pytest.fixture(scope="module")
def start_cluster():
    """Factory: ``start_cluster(name, *config_lines, tls=None)`` -> a running 6-node LocalCluster,
    stopped by PID after the module's tests (with ``tls``: TLS only, see _make_server)."""
    clusters = []

    def start(name, *config_lines, tls=None):
        cluster = LocalCluster(name, config_lines=config_lines, tls=tls, make_node=_make_server)
        clusters.append(cluster)
        return cluster.start()

    yield start
    for cluster in clusters:
        cluster.stop_all()


@pytest.fixture
async def spare_cluster_client(_closing, spare_redis_cluster):
    """``await factory(**kw)``: a cluster client of the spare cluster (flushed first)."""
    servers = spare_redis_cluster
    await asyncio.to_thread(servers.wait_stable)
    for node in servers.primaries():
        servers.cli(node, "flushall")

    async def factory(**kwargs):
        client = await aioredis_cy.create_redis_cluster(servers.addresses[:1],
                                                        **{**PROTOCOL_DEFAULTS, **kwargs})
        _closing.append(client)
        return client

    return factory


@pytest.fixture
async def create_redis_cluster(_closing, redis_cluster_servers):
    """``await create_redis_cluster(startup_nodes=None, **kw)``; every primary flushed first."""
    for node in redis_cluster_servers.primaries():
        redis_cluster_servers.cli(node, "flushall")

    async def factory(startup_nodes=None, **kwargs):
        client = await aioredis_cy.create_redis_cluster(
            startup_nodes or redis_cluster_servers.addresses[:1], **{**PROTOCOL_DEFAULTS, **kwargs})
        _closing.append(client)
        return client

    return factory
