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
