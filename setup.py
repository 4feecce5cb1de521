"""Build script: cythonizes the RESP reader and the protocol.

Environment switches read at build time:

``AIOREDIS_CY_PARSER=cython|hiredis|python``
    The reader connections use when ``parser=`` is not given (default ``cython``).
    It is written into ``aioredis_cy/_build_config.py``. hiredis is not needed to
    build: it is looked up when the first connection asks for the default reader.
``AIOREDIS_CY_DEBUG=1``
    Build with Cython line tracing and write annotated HTML next to the sources,
    for profiling with line-level tools.
"""
import os
import sys
from pathlib import Path

from setuptools import Extension, setup

HERE = Path(__file__).parent
PACKAGE = HERE / "aioredis_cy"
PARSERS = ("cython", "hiredis", "python")
EXTENSIONS = ("_resp", "_buffered", "_protocol", "_crc16", "_cluster", "_cachehit")


def chosen_parser() -> str:
    parser = os.environ.get("AIOREDIS_CY_PARSER", "cython").strip().lower() or "cython"
    if parser not in PARSERS:
        sys.exit(f"AIOREDIS_CY_PARSER must be one of {', '.join(PARSERS)}, not {parser!r}")
    return parser


def write_build_config(parser: str) -> None:
    text = (
        '"""Written by setup.py at build time; records the build-time choices."""\n'
        f"DEFAULT_PARSER = {parser!r}\n"
    )
    target = PACKAGE / "_build_config.py"
    if not target.exists() or target.read_text() != text:
        target.write_text(text)


def cython_available() -> bool:
    try:
        import Cython  # noqa: F401
    except ImportError:
        return False
    return True


def extensions(debug: bool):
    """The extension modules: cythonized from ``.pyx``, or from the ``.c`` an sdist ships
    when the ``.pyx`` files or Cython itself are missing."""
    macros = [("CYTHON_TRACE_NOGIL", "1"), ("CYTHON_TRACE", "1")] if debug else []
    pyx = [PACKAGE / f"{name}.pyx" for name in EXTENSIONS]
    from_c = not (all(path.exists() for path in pyx) and cython_available())
    suffix = ".c" if from_c else ".pyx"
    exts = [
        Extension(f"aioredis_cy.{name}", [f"aioredis_cy/{name}{suffix}"], define_macros=macros)
        for name in EXTENSIONS
    ]
    if from_c:
        return exts
    from Cython.Build import cythonize

    directives = {"language_level": "3", "embedsignature": True}
    if debug:
        directives.update(linetrace=True, profile=True)
    return cythonize(exts, compiler_directives=directives, annotate=debug, force=debug)


debug_build = os.environ.get("AIOREDIS_CY_DEBUG", "") not in ("", "0")
write_build_config(chosen_parser())
setup(ext_modules=extensions(debug_build))
