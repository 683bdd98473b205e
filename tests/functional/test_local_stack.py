"""`qungui dev` as a person runs it: a subprocess, real HTTP, the CLI finding the stack through its state file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from qungui_cli.dev import free_port

ROOT = Path(__file__).resolve().parents[2]
V2_QUERY = (
    "msg_signature=5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3&timestamp=1409659589&nonce=263014780&echostr="
    "P9nAzCzyDtyTWESHep1vC5X9xho%2FqYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp%2B4RPcs8TgAE7OaBO%2BFZXvnaqQ%3D%3D"
)


@pytest.fixture
def local_stack(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "QUNGUI_"))}
    env["QUNGUI_DEV_STATE"] = str(tmp_path / "dev.json")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "qungui_cli.main", "dev", "--no-schedules", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    for line in process.stdout:
        if "qungui dev ready on" in line:
            assert f"http://127.0.0.1:{port}" in line
            break
        assert time.monotonic() < deadline, "qungui dev did not become ready"
    else:
        pytest.fail(f"qungui dev exited with {process.wait()}")
    yield env, port
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=20) == 0
    assert not (tmp_path / "dev.json").exists()


def test_dev_stack_answers_the_v2_vector_over_real_http(local_stack):
    env, port = local_stack
    added = subprocess.run(
        [sys.executable, "-m", "qungui_cli.main", "tenant", "add", "v2", "--corp-id", "wx5823bf96d3bd56c7",
         "--token", "QDG6eK", "--aes-key", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/wecom/v2/callback?{V2_QUERY}", timeout=10) as response:
        assert response.status == 200
        assert response.read() == b"1616140317555161061"

    sent = qungui(env, "callback", "send", "--tenant", "v2", "text", "免打扰", "--from", "lisi")
    assert sent.returncode == 0, sent.stderr
    assert "HTTP 200" in sent.stdout
    assert "篇三 9" in sent.stdout  # the decrypted passive reply, printed for a person


def qungui(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qungui_cli.main", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_commands_without_a_stack_say_how_to_start_one(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "QUNGUI_"))}
    env["QUNGUI_DEV_STATE"] = str(tmp_path / "none.json")
    result = subprocess.run(
        [sys.executable, "-m", "qungui_cli.main", "tenant", "show", "x"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "qungui dev" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_plays_the_scenes_through_real_callbacks(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "QUNGUI_"))}
    env["QUNGUI_DEV_STATE"] = str(tmp_path / "dev.json")
    demo = qungui(env, "demo")
    assert demo.returncode == 0, demo.stderr
    transcript = demo.stdout
    assert "校验通过" in transcript
    assert "群规助手可用的指令" in transcript
    assert "【群规 篇二 3.2】" in transcript
    assert "【群规 篇三 9】" in transcript
    assert "回复完全相同，只记录一次" in transcript
    assert "HTTP 403" in transcript
    assert "群规助手私信李四：您好，您在群里发布的内容涉及“赌博”" in transcript  # delivered through the outbox
    assert "已豁免 lisi 的警告" in transcript
    assert "—— 已豁免" in transcript
    assert "是管理员指令，您暂时没有权限使用" in transcript
    assert '"level"' not in transcript  # no JSON log lines in the transcript
