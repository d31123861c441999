"""Static checks of the run modes: the Makefile fragments and Procfiles point at things that exist."""

from __future__ import annotations

import importlib.util
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from localhub.samples import APP_TOKEN

ROOT = Path(__file__).resolve().parents[2]


def test_demo_token_is_the_local_hub_app_token() -> None:
    dev_mk = (ROOT / "tools" / "Dev.mk").read_text()
    match = re.search(r"^DEMO_HF_TOKEN := (\S+)$", dev_mk, re.MULTILINE)
    assert match is not None
    assert match.group(1) == APP_TOKEN


@pytest.mark.parametrize("procfile", ["Procfile.dev", "Procfile.demo"])
def test_procfile_modules_exist(procfile: str) -> None:
    lines = [line for line in (ROOT / "tools" / procfile).read_text().splitlines() if line.strip()]
    assert lines
    for line in lines:
        _, command = line.split(":", 1)
        args = shlex.split(command)
        if "-m" in args:
            module = args[args.index("-m") + 1]
            assert importlib.util.find_spec(module) is not None, module
        else:
            script = next(arg for arg in args if arg.endswith(".py"))
            assert (ROOT / script).is_file(), script


@pytest.mark.parametrize("target", ["dev", "demo"])
def test_make_targets_expand(target: str) -> None:
    result = subprocess.run(
        ["make", "-n", target], cwd=ROOT, capture_output=True, text=True, check=True, env={"PATH": "/usr/bin:/bin"}
    )
    assert "honcho" in result.stdout
    if target == "demo":
        assert "localhub generate" in result.stdout
        assert f"COMMON_HF_TOKEN={APP_TOKEN}" in result.stdout


def test_make_dev_honours_legacy_and_scoped_variables() -> None:
    env = {"PATH": "/usr/bin:/bin", "HF_ENDPOINT": "http://hub.example:1", "API_PORT": "8123"}
    result = subprocess.run(["make", "-n", "dev"], cwd=ROOT, capture_output=True, text=True, check=True, env=env)
    assert "API http://localhost:8123" in result.stdout
    assert "Hub http://hub.example:1" in result.stdout


@pytest.mark.parametrize("service", ["api", "admin", "worker"])
def test_service_makefiles_run_their_module(service: str) -> None:
    result = subprocess.run(
        ["make", "-n", "run", "watch"],
        cwd=ROOT / "services" / service,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert f"python -m {service}" in result.stdout
    assert "watchfiles" in result.stdout
    assert importlib.util.find_spec(service) is not None
