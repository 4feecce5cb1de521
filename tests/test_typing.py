"""Types that help the user: ``mypy --strict`` accepts 1.x-style code and reports its mistakes.

``typing/user_script.py`` is written as an aioredis 1.x user writes code; it must type-check.
``typing/wrong_script.py`` holds mistakes, each line marked ``# E: <code>`` with the error
mypy must report there (and no other). The stubs of the Cython modules must list what the
compiled modules define, with the same parameters.
"""
import ast
import hashlib
import importlib
import inspect
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = Path(__file__).resolve().parent / "typing"
USER_SCRIPT = SCRIPTS / "user_script.py"
WRONG_SCRIPT = SCRIPTS / "wrong_script.py"

_ERROR = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): error: .*\[(?P<code>[a-z-]+)\]$")
_EXPECTED = re.compile(r"#\s*E:\s*(?P<code>[a-z-]+)\s*$")


def _cache_dir():
    """A mypy cache kept between runs (mypy checks it is fresh), one per checkout, Python and worker."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    checkout = hashlib.sha1(str(ROOT).encode()).hexdigest()[:12]
    tag = f"{checkout}-py{sys.version_info[0]}{sys.version_info[1]}-{worker}"
    return Path(tempfile.gettempdir()) / f"aioredis_cy-mypy-{tag}"


@pytest.fixture(scope="module")
def mypy_errors():
    """``{script name: {(line, error code), ...}}`` from one ``mypy --strict`` run over both scripts."""
    cache = _cache_dir()
    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ, PATH=os.pathsep.join([bin_dir, os.environ.get("PATH", "")]))
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(SCRIPTS / "mypy.ini"), "--cache-dir", str(cache),
         "--no-error-summary", "--show-error-codes", str(USER_SCRIPT), str(WRONG_SCRIPT)],
        cwd=ROOT, capture_output=True, text=True, env=env,
    )
    assert result.returncode in (0, 1), result.stdout + result.stderr   # 1: errors found, 2: mypy failed
    errors = {USER_SCRIPT.name: set(), WRONG_SCRIPT.name: set()}
    for line in result.stdout.splitlines():
        match = _ERROR.match(line)
        if match is None:
            continue
        name = Path(match["path"]).name
        assert name in errors, f"an error outside the scripts (the package must stay silent): {line}"
        errors[name].add((int(match["line"]), match["code"]))
    errors["output"] = result.stdout
    return errors


def test_user_script_type_checks_strict(mypy_errors):
    assert mypy_errors[USER_SCRIPT.name] == set(), mypy_errors["output"]


def test_mistakes_are_reported(mypy_errors):
    expected = set()
    for number, line in enumerate(WRONG_SCRIPT.read_text().splitlines(), 1):
        match = _EXPECTED.search(line)
        if match is not None:
            expected.add((number, match["code"]))
    assert {code for _, code in expected} >= {"attr-defined", "assignment", "arg-type", "unused-awaitable"}
    assert mypy_errors[WRONG_SCRIPT.name] == expected, mypy_errors["output"]


# -- the stubs of the Cython modules ------------------------------------------------------------

STUBBED = [
    "aioredis_cy._protocol", "aioredis_cy._resp", "aioredis_cy._crc16", "aioredis_cy._buffered",
    "aioredis_cy._cluster",
]
# Compiled classes used only from Cython: no Python caller needs their types.
CYTHON_ONLY = {"aioredis_cy._protocol": {"BatchReplies", "OutputBuffer", "ReplySink", "Waiter"}}


def _stub(module_name):
    path = ROOT / (module_name.replace(".", "/") + ".pyi")
    return ast.parse(path.read_text())


def _stub_members(body):
    """Names a stub body defines: ``{name: ast node}`` (functions, classes, annotated names)."""
    members = {}
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            members[node.name] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            members[node.target.id] = node
    return members


def _runtime_names(module):
    """Public names the compiled module defines itself (not the modules and classes it imports)."""
    names = set()
    for name, value in vars(module).items():
        if name.startswith("_") or inspect.ismodule(value):
            continue
        if inspect.isclass(value) and value.__module__ != module.__name__:
            continue
        names.add(name)
    return names


def _class_members(cls):
    return {name for name in vars(cls) if not name.startswith("__") and "cython" not in name}


def _stub_params(node):
    args = node.args
    params = [a.arg for a in args.posonlyargs + args.args if a.arg != "self"]
    if args.vararg:
        params.append("*" + args.vararg.arg)
    params += [a.arg for a in args.kwonlyargs]
    if args.kwarg:
        params.append("**" + args.kwarg.arg)
    return params


def _runtime_params(func):
    params = []
    for param in inspect.signature(func).parameters.values():
        if param.name == "self":
            continue
        prefix = {param.VAR_POSITIONAL: "*", param.VAR_KEYWORD: "**"}.get(param.kind, "")
        params.append(prefix + param.name)
    return params


@pytest.mark.parametrize("module_name", STUBBED)
def test_stub_lists_what_the_module_defines(module_name):
    module = importlib.import_module(module_name)
    stub = _stub_members(_stub(module_name).body)
    public = {name for name in stub if not name.startswith("_")}
    assert public == _runtime_names(module) - CYTHON_ONLY.get(module_name, set())


@pytest.mark.parametrize("module_name", STUBBED)
def test_stub_signatures_match_the_module(module_name):
    module = importlib.import_module(module_name)
    mismatches = []
    for name, node in _stub_members(_stub(module_name).body).items():
        runtime = getattr(module, name)
        if isinstance(node, ast.ClassDef):
            members = _stub_members(node.body)
            own = _class_members(runtime)
            if not any(isinstance(base, ast.Name) and base.id in _stub_members(_stub(module_name).body)
                       for base in node.bases):
                missing = own - set(members)
                if missing:
                    mismatches.append(f"{name}: not in the stub: {sorted(missing)}")
            for member, member_node in members.items():
                if member.startswith("__"):
                    continue   # special methods of compiled classes are slot wrappers: no signature
                if not hasattr(runtime, member):
                    mismatches.append(f"{name}.{member}: in the stub only")
                elif isinstance(member_node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not any(
                        isinstance(d, ast.Name) and d.id == "property" for d in member_node.decorator_list):
                    if _stub_params(member_node) != _runtime_params(getattr(runtime, member)):
                        mismatches.append(f"{name}.{member}: stub {_stub_params(member_node)}, "
                                          f"module {_runtime_params(getattr(runtime, member))}")
        elif isinstance(node, ast.FunctionDef) and _stub_params(node) != _runtime_params(runtime):
            mismatches.append(f"{name}: stub {_stub_params(node)}, module {_runtime_params(runtime)}")
    assert mismatches == []
