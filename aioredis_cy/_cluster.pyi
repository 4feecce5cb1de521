from typing import Any, Callable, Optional

NO_KEYS: int
CROSS_SLOT: int

def slot_of(key: Any) -> int: ...
def keys_slot(args: tuple, first: int, last: int, step: int) -> int: ...

class Route:
    first: int
    last: int
    step: int
    read_only: bool
    blocking: bool
    def __init__(self, first: int, last: int, step: int, read_only: bool, blocking: bool) -> None: ...

class Relay:
    target: Any
    converter: Optional[Callable[[Any], Any]]
    command: Any
    args: tuple
    kwargs: dict
    slot: int
    route: Route
    timer: Any
    source: Any
    def __call__(self, source: Any) -> None: ...
    def expire(self) -> None: ...
    def stop_on_cancel(self, target: Any) -> None: ...

class Router:
    cluster: Any
    closed: bool
    slot_pools: list
    replica_pools: list
    master_pools: list
    attempt_timeout: Optional[float]
    routes: dict
    def __init__(self, cluster: Any, replica_reads: bool, attempt_timeout: Optional[float]) -> None: ...
    def bind_loop(self, loop: Any) -> None: ...
    def execute(self, command: Any, *args: Any, **kwargs: Any) -> Any: ...
    def execute_converted(self, converter: Callable[[Any], Any], command: Any, *args: Any,
                          **kwargs: Any) -> Any: ...
    def pick(self, route: Route, slot: int) -> Any: ...
