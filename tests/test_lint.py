"""Lint and type checks run as part of the suite (ruff, mypy, cython-lint)."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args):
    # Tools that start other tools (cython-lint runs pycodestyle) find them next to this
    # interpreter, also when its environment is not activated.
    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ, PATH=os.pathsep.join([bin_dir, os.environ.get("PATH", "")]))
    result = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, env=env)
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
