from typing import Any, Callable, Optional

KIND_READ: int

class HitPath:
    cache: Any
    entries: Any
    kinds: dict
    encodings: set
    disabled: Any
    loop: Any
    encoding: Optional[str]
    copy_reply: Callable[[Any, Optional[str]], Any]
    in_multi: bool
    def __init__(self, cache: Any, entries: Any, kinds: dict, encodings: set, disabled: Any, loop: Any,
                 encoding: Optional[str], copy_reply: Callable[[Any, Optional[str]], Any]) -> None: ...
    def execute(self, command: Any, *args: Any, encoding: Any = ...) -> Any: ...
    def execute_converted(self, converter: Any, command: Any, *args: Any, encoding: Any = ...) -> Any: ...
    def get(self, key: Any, *, encoding: Any = ...) -> Any: ...
