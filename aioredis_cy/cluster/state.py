"""A snapshot of the cluster: nodes, who serves which slots, and the epoch it was read at."""
from typing import Dict, List, NamedTuple, Optional, Tuple

from .._crc16 import SLOTS

__all__ = ["ClusterNode", "ClusterState", "parse_cluster_slots"]

Address = Tuple[str, int]


class ClusterNode(NamedTuple):
    """One node: its address, id and whether it is a primary."""

    addr: Address
    node_id: str
    is_master: bool


class ClusterState:
    """Nodes and slot owners as one node reported them (``CLUSTER SLOTS``)."""

    def __init__(self, ranges: List[Tuple[int, int, ClusterNode, List[ClusterNode]]], epoch: int) -> None:
        self.epoch = epoch
        self.slot_ranges = [(start, end, master) for start, end, master, _ in ranges]
        self._owners: List[Optional[ClusterNode]] = [None] * SLOTS
        self._replicas: Dict[Address, List[ClusterNode]] = {}
        nodes: Dict[Address, ClusterNode] = {}
        for start, end, master, replicas in ranges:
            self._owners[start:end + 1] = [master] * (end - start + 1)
            nodes[master.addr] = master
            self._replicas[master.addr] = replicas
            for replica in replicas:
                nodes[replica.addr] = replica
        self.nodes = list(nodes.values())

    def __repr__(self) -> str:
        return f"<ClusterState epoch={self.epoch} nodes={len(self.nodes)} ranges={len(self.slot_ranges)}>"

    def masters(self) -> List[ClusterNode]:
        """The primaries that serve at least one slot."""
        return [node for node in self.nodes if node.is_master]

    def replicas(self) -> List[ClusterNode]:
        return [node for node in self.nodes if not node.is_master]

    def slot_master(self, slot: int) -> Optional[ClusterNode]:
        """The primary serving ``slot``, or None when the slot is uncovered."""
        return self._owners[slot]

    def slot_replicas(self, slot: int) -> List[ClusterNode]:
        """The replicas of the primary serving ``slot`` (none when it is uncovered)."""
        master = self._owners[slot]
        return [] if master is None else self._replicas.get(master.addr, [])

    def master_replicas(self, addr: Address) -> List[ClusterNode]:
        """The replicas of the primary at ``addr``."""
        return list(self._replicas.get(addr, []))

    def owners(self) -> List[Optional[ClusterNode]]:
        """The primary of every slot (None where uncovered), by slot number.

        This is the state's own list (no copy of 16384 entries per call), which
        ``move_slot`` keeps current: read it, do not change it.
        """
        return self._owners

    def has_addr(self, addr: Address) -> bool:
        return any(node.addr == addr for node in self.nodes)

    @property
    def current_epoch(self) -> int:
        return self.epoch

    def move_slot(self, slot: int, addr: Address) -> None:
        """Record a MOVED reply: ``slot`` is now served by the primary at ``addr``."""
        for node in self.nodes:
            if node.addr == addr:
                self._owners[slot] = node._replace(is_master=True)
                return
        node = ClusterNode(addr, "", True)
        self.nodes.append(node)
        self._owners[slot] = node


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def parse_cluster_slots(reply, queried: Address, epoch: int) -> ClusterState:
    """A state from a ``CLUSTER SLOTS`` reply got from the node at ``queried``."""
    def node(entry, is_master: bool) -> ClusterNode:
        host = _text(entry[0]) or queried[0]
        if host == "?":
            host = queried[0]
        node_id = _text(entry[2]) if len(entry) > 2 else ""
        return ClusterNode((host, int(entry[1])), node_id, is_master)

    ranges = [(int(item[0]), int(item[1]), node(item[2], True), [node(r, False) for r in item[3:]])
              for item in reply]
    return ClusterState(ranges, epoch)
