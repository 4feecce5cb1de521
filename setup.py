"""Build script: cythonizes the RESP reader and the protocol.

Environment switches read at build time:

``AIOREDIS_CY_PARSER=cython|hiredis|python``
    The reader connections use when ``parser=`` is not given (default ``cython``).
    It is written into ``aioredis_cy/_build_config.py``.
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
EXTENSIONS = ("_resp", "_protocol", "_crc16")


def chosen_parser() -> str:
    parser = os.environ.get("AIOREDIS_CY_PARSER", "cython").strip().lower() or "cython"
    if parser not in PARSERS:
        sys.exit(f"AIOREDIS_CY_PARSER must be one of {', '.join(PARSERS)}, not {parser!r}")
    if parser == "hiredis":
        try:
            import hiredis  # noqa: F401
        except ImportError:
            sys.exit(
                "AIOREDIS_CY_PARSER=hiredis, but the hiredis package is not installed in the build "
                "environment. Install it first (pip install hiredis) and build with "
                "--no-build-isolation, or choose AIOREDIS_CY_PARSER=cython."
            )
    return parser


def write_build_config(parser: str) -> None:
    text = (
        '"""Written by setup.py at build time; records the build-time choices."""\n'
        f"DEFAULT_PARSER = {parser!r}\n"
    )
    target = PACKAGE / "_build_config.py"
    if not target.exists() or target.read_text() != text:
        target.write_text(text)


def extensions(debug: bool):
    macros = [("CYTHON_TRACE_NOGIL", "1"), ("CYTHON_TRACE", "1")] if debug else []
    sources = {name: PACKAGE / f"{name}.pyx" for name in EXTENSIONS}
    if not all(path.exists() for path in sources.values()):
        # An sdist ships the generated C files instead of requiring Cython.
        sources = {name: PACKAGE / f"{name}.c" for name in EXTENSIONS}
    exts = [
        Extension(f"aioredis_cy.{name}", [str(path.relative_to(HERE))], define_macros=macros)
        for name, path in sources.items()
    ]
    if str(next(iter(sources.values()))).endswith(".c"):
        return exts
    from Cython.Build import cythonize

    directives = {"language_level": "3", "embedsignature": True}
    if debug:
        directives.update(linetrace=True, profile=True)
    return cythonize(exts, compiler_directives=directives, annotate=debug, force=debug)


debug_build = os.environ.get("AIOREDIS_CY_DEBUG", "") not in ("", "0")
write_build_config(chosen_parser())
setup(ext_modules=extensions(debug_build))
