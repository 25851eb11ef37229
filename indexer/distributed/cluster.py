"""Joining Ray: address forms, the nodes that take work, and what each node runs."""

from __future__ import annotations

import logging
import math
import os
import socket
from dataclasses import dataclass

import ray

from scenespark.config import Settings, apply_offline_env
from scenespark.errors import ClusterError, ConfigError, InvalidInputError

LOCAL = "local"
CONNECT_TIMEOUT_S = 5.0

# logical CPUs an actor reserves (Ray scheduling); a lane is one frames + one speech actor
FRAMES_CPUS = 1.0
SPEECH_CPUS = 0.75
LANE_CPUS = FRAMES_CPUS + SPEECH_CPUS


@dataclass(frozen=True)
class NodePlan:
    """What one node runs: ``lanes`` frames and speech actors; ``scale`` shrinks the CPU
    reservations so they fit a node with fewer CPUs than one lane reserves."""

    node_id: str
    ip: str
    cpus: float
    lanes: int
    scale: float


def check_address(address: str) -> str:
    """``local``, ``auto``, ``HOST:PORT`` or ``ray://HOST:PORT``; anything else is bad input."""
    text = address.strip()
    if text in (LOCAL, "auto") or text.startswith("ray://"):
        return text
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidInputError(
            f"--ray {address!r} is not an address: use 'local', 'auto' or HOST:PORT"
        )
    return text


def connect(address: str) -> None:
    """Start a Ray instance in this process (``local``) or join a running cluster."""
    apply_offline_env()
    address = check_address(address)
    if ray.is_initialized():
        return
    common = {"log_to_driver": False, "logging_level": logging.WARNING}
    if address == LOCAL:
        kwargs = {
            "address": LOCAL,
            "num_cpus": os.cpu_count() or 1,
            "include_dashboard": False,
            **common,
        }
    else:
        if ":" in address and not address.startswith("ray://"):
            _check_reachable(address)
        kwargs = {"address": address, **common}
    try:
        ray.init(**kwargs)
    except Exception as exc:
        raise ClusterError(f"cannot join the Ray cluster at {address}: {_one_line(exc)}") from exc


def _check_reachable(address: str) -> None:
    host, _sep, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S):
            return
    except OSError as exc:
        raise ClusterError(
            f"no Ray cluster answers at {address}: {exc.strerror or exc}",
            hint="start one with `ray start --head` or check the address",
        ) from exc


def plan_nodes() -> list[NodePlan]:
    """Every alive node with CPUs, and how many lanes it gets."""
    plans = []
    for node in ray.nodes():
        if not node.get("Alive"):
            continue
        cpus = float(node.get("Resources", {}).get("CPU", 0.0))
        if cpus <= 0:
            continue
        lanes = max(1, math.floor(cpus / LANE_CPUS))
        scale = min(1.0, cpus / (lanes * LANE_CPUS))
        plans.append(
            NodePlan(node["NodeID"], node.get("NodeManagerAddress", "?"), cpus, lanes, scale)
        )
    if not plans:
        raise ClusterError("the Ray cluster has no node with CPUs to run the stages")
    return plans


def alive_node_count() -> int:
    return sum(1 for node in ray.nodes() if node.get("Alive"))


def check_store(settings: Settings, nodes: int) -> None:
    """One line when the vector store cannot serve a cluster."""
    if nodes > 1 and not settings.chroma_url.strip():
        raise ConfigError(
            f"--ray on a cluster of {nodes} nodes needs a Chroma server: set "
            "SCENESPARK_CHROMA_URL (an embedded Chroma store is one machine's files)"
        )


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]
