"""Run the ``trustsim`` command in a subprocess, several at once, for the CLI tests."""

import os
import subprocess
import sys
from pathlib import Path


def cli_env() -> dict[str, str]:
    """The environment without ``HYDRA_FULL_ERROR`` (a full stack trace is opt-in)."""
    env = dict(os.environ)
    env.pop("HYDRA_FULL_ERROR", None)
    return env


def start(args: list[str], cwd: Path, command: list[str] | None = None) -> subprocess.Popen:
    """Start ``trustsim ARGS`` (or ``command ARGS``) in ``cwd`` without waiting for it."""
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [*(command or [sys.executable, "-m", "sim.cli"]), *args],
        cwd=cwd,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen, timeout: float) -> subprocess.CompletedProcess:
    """Wait for a started command (killing it after ``timeout`` s) and collect its output."""
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
