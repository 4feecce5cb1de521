from typing import Any, Callable, Dict, List, Optional, Tuple

NO_KEYS: int
CROSS_SLOT: int

def slot_of(key: Any) -> int: ...
def keys_slot(args: Tuple[Any, ...], first: int, last: int, step: int) -> int: ...
_Positions = Optional[Tuple[int, int, int]]
_Address = Tuple[str, int]

def record_slots(
    records: List[Any], positions: Dict[Any, _Positions], positions_of: Callable[[Any], _Positions]
) -> Tuple[List[int], List[int]]: ...
def group_by_owner(
    pending: List[int], slots: List[int], owners: List[Any], asks: Dict[int, _Address],
    any_master: Callable[[], _Address],
) -> Tuple[Dict[_Address, List[int]], List[int]]: ...
def failed_indices(indices: List[int], outcomes: List[Any]) -> List[int]: ...

class Route:
    first: int
    last: int
    step: int
    read_only: bool
    blocking: bool
    def __init__(self, first: int, last: int, step: int, read_only: bool, blocking: bool) -> None: ...

class Relay:   # a ReplySink of aioredis_cy._protocol
    target: Any
    converter: Optional[Callable[[Any], Any]]
    command: Any
    args: Tuple[Any, ...]
    encoding: Any
    kwargs: Dict[str, Any]
    slot: int
    route: Route
    timer: Any
    source: Any
    def done(self) -> bool: ...
    def set_result(self, reply: Any) -> None: ...
    def set_exception(self, exc: BaseException) -> None: ...
    def __call__(self, source: Any) -> None: ...
    def expire(self) -> None: ...
    def stop_on_cancel(self, target: Any) -> None: ...

class Router:
    cluster: Any
    closed: bool
    slot_pools: List[Any]
    replica_pools: List[Any]
    master_pools: List[Any]
    attempt_timeout: Optional[float]
    routes: Dict[Any, Route]
    def __init__(self, cluster: Any, replica_reads: bool, attempt_timeout: Optional[float]) -> None: ...
    def bind_loop(self, loop: Any) -> None: ...
    def execute(self, command: Any, *args: Any, encoding: Any = ...) -> Any: ...
    def execute_converted(self, converter: Callable[[Any], Any], command: Any, *args: Any,
                          encoding: Any = ...) -> Any: ...
    def pick(self, route: Route, slot: int) -> Any: ...
    def send_on(self, conn: Any, converter: Callable[[Any], Any], command: Any, args: Tuple[Any, ...],
                slot: int, route: Route) -> Any: ...
