"""Lint and type checks run as part of the suite (ruff, mypy, cython-lint)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args):
    result = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff():
    run(sys.executable, "-m", "ruff", "check", "aioredis_cy", "tests", "setup.py")


def test_mypy():
    run(sys.executable, "-m", "mypy", "--no-error-summary")


def test_cython_lint():
    package = ROOT / "aioredis_cy"
    sources = sorted(str(path) for path in package.iterdir() if path.suffix in (".pyx", ".pxd"))
    run(sys.executable, "-c", "import sys; from cython_lint.cython_lint import main; sys.exit(main())",
        "--max-line-length", "110", *sources)
