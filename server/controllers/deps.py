"""Dependencies shared by the controllers."""

from __future__ import annotations

from litestar.datastructures import State

from server.runtime import ServerRuntime


def provide_runtime(state: State) -> ServerRuntime:
    runtime = state.get("runtime")
    if runtime is None:  # pragma: no cover - the lifespan always sets it
        raise RuntimeError("the server has not started")
    return runtime
