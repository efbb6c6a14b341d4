"""Telemetry is off by default, and tests cannot reach beyond loopback."""

import os
import socket
import subprocess
import sys

import pytest
from pytest_socket import SocketConnectBlockedError

from tests.conftest import ROOT


def test_harness_turns_telemetry_off_and_the_hub_offline() -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in ("RAGAS_DO_NOT_TRACK", "MLFLOW_DISABLE_TELEMETRY", "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")
    }
    names = ("RAGAS_DO_NOT_TRACK", "MLFLOW_DISABLE_TELEMETRY", "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")
    code = f"import harness, os; print([os.environ[k] for k in {names!r}])"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    # ragas only honours the exact string "true"
    assert out.stdout.strip() == "['true', 'true', '1', '1']"


def test_a_user_can_opt_back_in() -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "0", "RAGAS_DO_NOT_TRACK": "false"}
    code = "import harness, os; print(os.environ['HF_HUB_OFFLINE'], os.environ['RAGAS_DO_NOT_TRACK'])"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["0", "false"]


def test_connections_beyond_loopback_fail_in_tests() -> None:
    with pytest.raises(SocketConnectBlockedError):
        socket.create_connection(("192.0.2.1", 443), timeout=1)  # TEST-NET-1: never routed


def test_loopback_is_allowed() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=2):
            pass
