from typing import Any, Callable, Optional

KIND_READ: int

class Entry:
    value: Any
    size: int
    expires: float
    owner: Any
    key: bytes
    future: Any
    future_encoding: Optional[str]
    future_loop: Any
    def __init__(self, value: Any, size: int, expires: float, owner: Any, key: bytes) -> None: ...

class CacheCore:
    _hits: int

class HitPath:
    cache: Any   # the ClientCache (a CacheCore)
    entries: Any
    kinds: dict[Any, Any]
    encodings: set[Any]
    disabled: Any
    loop: Any
    encoding: Optional[str]
    copy_reply: Callable[[Any, Optional[str]], Any]
    in_multi: bool
    def __init__(self, cache: CacheCore, entries: Any, kinds: dict[Any, Any], encodings: set[Any],
                 disabled: Any, loop: Any, encoding: Optional[str],
                 copy_reply: Callable[[Any, Optional[str]], Any]) -> None: ...
    def execute(self, command: Any, *args: Any, encoding: Any = ...) -> Any: ...
    def execute_converted(self, converter: Any, command: Any, *args: Any, encoding: Any = ...) -> Any: ...
    def completed(self, raw: Any, encoding: Optional[str], converter: Any) -> Any: ...
    def get(self, key: Any, *, encoding: Any = ...) -> Any: ...

def encoded_arg(arg: Any) -> Optional[bytes]: ...
def cache_key(name: bytes, args: tuple[Any, ...]) -> Optional[tuple[Any, ...]]: ...
