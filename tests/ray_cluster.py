"""A Ray cluster on this machine for tests and benches: a head and worker nodes, each a
``ray start --block`` process in its own process group, ended by its id (SIGKILL = a lost node)."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import free_port

RAY = Path(sys.executable).with_name("ray")
NODE_CPUS = 2
START_TIMEOUT_S = 180


@dataclass
class RayNode:
    process: subprocess.Popen
    log_path: Path

    def kill(self) -> None:
        """SIGKILL the whole node (ray start, raylet, its workers): a crashed machine."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


def _node_args(cpus: int) -> list[str]:
    return [
        f"--num-cpus={cpus}",
        "--object-store-memory=100000000",
        f"--node-manager-port={free_port()}",
        f"--object-manager-port={free_port()}",
        f"--dashboard-agent-listen-port={free_port()}",
        f"--dashboard-agent-grpc-port={free_port()}",
        f"--runtime-env-agent-port={free_port()}",
        f"--metrics-export-port={free_port()}",
        "--disable-usage-stats",
        "--block",
    ]


def ray_env(workdir: Path) -> dict[str, str]:
    """The environment of every process of the test cluster, the driver included: Ray's token
    authentication with a token of its own (as a deployment copies one token to every node)."""
    token = workdir / "ray-token"
    if not token.exists():
        token.write_text(secrets.token_hex(32))
        token.chmod(0o600)
    return dict(
        os.environ,
        RAY_AUTH_MODE="token",
        RAY_AUTH_TOKEN_PATH=str(token),
        RAY_USAGE_STATS_ENABLED="0",
    )


def _start_node(args: list[str], log_path: Path, env: dict[str, str], cpus: int) -> RayNode:
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(RAY), "start", *args, *_node_args(cpus)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group: ended by its id
        )
    return RayNode(process, log_path)


def _alive_nodes(address: str, env: dict[str, str]) -> int:
    probe = (
        f"import ray; ray.init(address={address!r}, logging_level='ERROR'); "
        "print(sum(1 for n in ray.nodes() if n['Alive']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, env=env
    )
    return int(result.stdout.strip().splitlines()[-1]) if result.returncode == 0 else 0


@contextlib.contextmanager
def ray_cluster(
    workdir: Path, workers: int = 1, *, head_cpus: int = NODE_CPUS, worker_cpus: int = NODE_CPUS
) -> Iterator[tuple[str, list[RayNode], dict[str, str]]]:
    """Head + ``workers`` worker nodes on this machine; yields the address (127.0.0.1:PORT), the
    worker nodes and the environment a driver needs."""
    port = free_port()
    address = f"127.0.0.1:{port}"
    env = ray_env(workdir)
    head = _start_node(
        ["--head", f"--port={port}", "--include-dashboard=false"],
        workdir / "ray-head.log",
        env,
        head_cpus,
    )
    nodes: list[RayNode] = []
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while _alive_nodes(address, env) < 1:
            assert head.process.poll() is None, head.log_path.read_text()[-2000:]
            assert time.monotonic() < deadline, "the Ray head did not start"
            time.sleep(2)
        for index in range(workers):
            nodes.append(
                _start_node(
                    [f"--address={address}"], workdir / f"ray-worker{index}.log", env, worker_cpus
                )
            )
        restarts = 0
        while _alive_nodes(address, env) < 1 + workers:
            for index, node in enumerate(nodes):
                if node.process.poll() is None:
                    continue
                # on a loaded machine a raylet can miss its registration deadline: start the node
                # again, once per node
                assert restarts < workers, node.log_path.read_text()[-2000:]
                restarts += 1
                log_path = workdir / f"ray-worker{index}-again.log"
                nodes[index] = _start_node([f"--address={address}"], log_path, env, worker_cpus)
            assert time.monotonic() < deadline, "the Ray worker nodes did not join"
            time.sleep(2)
        yield address, nodes, env
    finally:
        for node in nodes:
            node.stop()
        head.stop()
