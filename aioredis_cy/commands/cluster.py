"""CLUSTER commands, as sent to one node of a Redis Cluster."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from .._typing import Arg, CommandsBase, Key, Reply, Value
from ..util import reply_is_ok, wait_convert
from ._checks import _check_int

__all__ = ["ClusterCommandsMixin", "parse_cluster_info", "parse_cluster_nodes", "parse_cluster_slots"]

_SLOTS = 16384
_SETSLOT_NEEDS_NODE = {"IMPORTING": True, "MIGRATING": True, "NODE": True, "STABLE": False}


def _check_slot(slot):
    _check_int("slot", slot, 0)
    if slot >= _SLOTS:
        raise ValueError(f"slot must be in range 0-{_SLOTS - 1}, got {slot}")


def _check_slots(slots):
    if not all(isinstance(s, int) and not isinstance(s, bool) for s in slots):
        raise TypeError("All parameters must be of type int")
    for slot in slots:
        _check_slot(slot)


class ClusterCommandsMixin(CommandsBase):
    """Cluster commands mixin.

    Node descriptions (``cluster_nodes``, ``cluster_slaves``) are dicts with the keys
    ``id``, ``host``, ``port``, ``cport``, ``hostname``, ``flags`` (tuple), ``master``
    (None for a master), ``ping_sent``, ``pong_recv``, ``config_epoch``, ``link_state``,
    ``slots`` (tuple of inclusive ``(start, end)``) and ``migrations`` (tuple of dicts with
    ``slot``, ``node_id`` and ``state`` = ``"migrating"`` or ``"importing"``).

    For commands details see: http://redis.io/commands#cluster
    """

    def cluster_add_slots(self, slot: int, *slots: int) -> Reply[bool]:
        """Assign new hash slots to receiving node."""
        slots = (slot,) + slots
        _check_slots(slots)
        return self._execute_converted(reply_is_ok, b"CLUSTER", b"ADDSLOTS", *slots)

    def cluster_count_failure_reports(self, node_id: Arg) -> Reply[int]:
        """Return the number of failure reports active for a given node."""
        return self.execute(b"CLUSTER", b"COUNT-FAILURE-REPORTS", node_id)

    def cluster_count_key_in_slots(self, slot: int) -> Reply[int]:
        """Return the number of local keys in the specified hash slot."""
        _check_slot(slot)
        return self.execute(b"CLUSTER", b"COUNTKEYSINSLOT", slot)

    def cluster_del_slots(self, slot: int, *slots: int) -> Reply[bool]:
        """Set hash slots as unbound in receiving node."""
        slots = (slot,) + slots
        _check_slots(slots)
        return self._execute_converted(reply_is_ok, b"CLUSTER", b"DELSLOTS", *slots)

    def cluster_failover(self, *, force: bool = False, takeover: bool = False) -> Reply[bool]:
        """Forces a slave to perform a manual failover of its master.

        ``force`` skips the handshake with the master; ``takeover`` also skips the cluster's
        agreement. At most one of them may be set.
        """
        if force and takeover:
            raise ValueError("force and takeover are mutually exclusive")
        option = (b"FORCE",) if force else (b"TAKEOVER",) if takeover else ()
        return self._execute_converted(reply_is_ok, b"CLUSTER", b"FAILOVER", *option)

    def cluster_forget(self, node_id: Arg) -> Reply[bool]:
        """Remove a node from the nodes table."""
        return self._execute_converted(reply_is_ok, b"CLUSTER", b"FORGET", node_id)

    def cluster_get_keys_in_slots(self, slot: int, count: int, *,
                                  encoding: Optional[str]) -> Reply[List[Value]]:
        """Return local key names in the specified hash slot."""
        _check_slot(slot)
        _check_int("count", count)
        return self.execute(b"CLUSTER", b"GETKEYSINSLOT", slot, count, encoding=encoding)

    def cluster_info(self) -> Reply[Dict[str, Any]]:
        """Provides info about Redis Cluster node state as a dict of str."""
        return self._execute_converted(parse_cluster_info, b"CLUSTER", b"INFO", encoding="utf-8")

    def cluster_keyslot(self, key: Key) -> Reply[int]:
        """Returns the hash slot of the specified key."""
        return self.execute(b"CLUSTER", b"KEYSLOT", key)

    def cluster_meet(self, ip: str, port: int) -> Reply[bool]:
        """Force a node cluster to handshake with another node."""
        _check_int("port", port)
        return self._execute_converted(reply_is_ok, b"CLUSTER", b"MEET", ip, port)

    def cluster_myid(self) -> Reply[Value]:
        """Return the node id of the node the connection talks to."""
        return self.execute(b"CLUSTER", b"MYID")

    def cluster_nodes(self) -> Reply[List[Dict[str, Any]]]:
        """Get Cluster config for the node: a list of node dicts (see the class docstring)."""
        return self._execute_converted(parse_cluster_nodes, b"CLUSTER", b"NODES", encoding="utf-8")

    def cluster_replicate(self, node_id: Arg) -> Reply[bool]:
        """Reconfigure a node as a slave of the specified master node."""
        return self._execute_converted(reply_is_ok, b"CLUSTER", b"REPLICATE", node_id)

    def cluster_reset(self, *, hard: bool = False) -> Reply[bool]:
        """Reset a Redis Cluster node (``hard`` also forgets the node's id and epochs)."""
        return self._execute_converted(reply_is_ok, b"CLUSTER", b"RESET", b"HARD" if hard else b"SOFT")

    def cluster_save_config(self) -> Reply[bool]:
        """Force the node to save cluster state on disk."""
        return self._execute_converted(reply_is_ok, b"CLUSTER", b"SAVECONFIG")

    def cluster_set_config_epoch(self, config_epoch: int) -> Reply[bool]:
        """Set the configuration epoch in a new node."""
        _check_int("config_epoch", config_epoch)
        return self._execute_converted(reply_is_ok, b"CLUSTER", b"SET-CONFIG-EPOCH", config_epoch)

    def cluster_setslot(self, slot: int, command: str, node_id: Arg) -> Reply[bool]:
        """Bind a hash slot to specified node.

        ``command`` is ``IMPORTING``, ``MIGRATING`` or ``NODE`` (each needs ``node_id``)
        or ``STABLE`` (``node_id`` must be None).
        """
        _check_slot(slot)
        if not isinstance(command, str) or command.upper() not in _SETSLOT_NEEDS_NODE:
            raise ValueError(f"command must be IMPORTING, MIGRATING, NODE or STABLE, got {command!r}")
        command = command.upper()
        if _SETSLOT_NEEDS_NODE[command] != (node_id is not None):
            need = "needs a node_id" if _SETSLOT_NEEDS_NODE[command] else "takes no node_id"
            raise ValueError(f"CLUSTER SETSLOT {command} {need}")
        node = () if node_id is None else (node_id,)
        return self._execute_converted(reply_is_ok, b"CLUSTER", b"SETSLOT", slot, command, *node)

    def cluster_slaves(self, node_id: Arg) -> Reply[List[Dict[str, Any]]]:
        """List slave nodes of the specified master node, as node dicts."""
        reply = self.execute(b"CLUSTER", b"SLAVES", node_id, encoding="utf-8")
        return wait_convert(reply, _parse_node_lines)

    def cluster_slots(self) -> Reply[Dict[Tuple[int, int], List[Tuple[str, int, str]]]]:
        """Get the slot map: ``{(start, end): [(host, port, node_id), ...]}``, master first."""
        return self._execute_converted(parse_cluster_slots, b"CLUSTER", b"SLOTS", encoding="utf-8")


def parse_cluster_info(text):
    """CLUSTER INFO text to a ``{field: value}`` dict of str."""
    fields = (line.partition(":") for line in text.splitlines() if line.strip())
    return {key.strip(): value.strip() for key, _, value in fields}


_MIGRATION_ARROWS = (("->-", "migrating"), ("-<-", "importing"))


def _parse_slot(item, migrations, slots):
    """Add one slot entry of a CLUSTER NODES line to ``slots`` or ``migrations``."""
    if not item.startswith("["):
        start, _, end = item.partition("-")
        slots.append((int(start), int(end or start)))
        return
    for arrow, state in _MIGRATION_ARROWS:
        slot, found, node_id = item[1:-1].partition(arrow)
        if found:
            migrations.append({"slot": int(slot), "node_id": node_id, "state": state})


def _parse_node(line):
    node_id, address, flags, master, ping, pong, epoch, link, *slot_items = line.split()
    address, _, hostname = address.partition(",")
    host_port, _, cport = address.partition("@")
    host, _, port = host_port.rpartition(":")
    slots, migrations = [], []
    for item in slot_items:
        _parse_slot(item, migrations, slots)
    return {
        "id": node_id,
        "host": host,
        "port": int(port),
        "cport": int(cport) if cport else None,
        "hostname": hostname or None,
        "flags": tuple(flags.split(",")),
        "master": None if master == "-" else master,
        "ping_sent": int(ping),
        "pong_recv": int(pong),
        "config_epoch": int(epoch),
        "link_state": link,
        "slots": tuple(slots),
        "migrations": tuple(migrations),
    }


def _parse_node_lines(lines):
    return [_parse_node(line) for line in lines if line.strip()]


def parse_cluster_nodes(text):
    """CLUSTER NODES text to a list of node dicts."""
    return _parse_node_lines(text.splitlines())


def parse_cluster_slots(reply):
    """CLUSTER SLOTS reply to ``{(start, end): [(host, port, node_id), ...]}``."""
    return {(int(start), int(end)): [_slot_node(node) for node in nodes] for start, end, *nodes in reply}


def _slot_node(node):
    return (node[0], int(node[1]), node[2] if len(node) > 2 else None)
