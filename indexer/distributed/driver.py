"""The driver: joins Ray, starts the stage actors, and writes every result itself.

Per video (at most one per lane in flight, so decoded work cannot pile up): the frames and the
speech stages run at once on two actors, possibly on two machines; the driver writes the
thumbnails they return, and the usual :class:`~indexer.service.IndexService` embeds the texts and
commits each (video, modality) run. Text embedding stays with the writer: the library's text
model is chosen there (the automatic switch to the multilingual model happens at write time),
and it is about 1% of the work.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from indexer.distributed import cluster
from indexer.distributed.actors import FramesActor, SpeechActor
from indexer.distributed.pool import StagePool
from indexer.progress import ProgressDisplay
from indexer.service import (
    Extracted,
    IndexOutcome,
    IndexService,
    collect_segments,
    needs_frame_scan,
)
from scenespark.config import Settings
from scenespark.engine import Engine
from scenespark.errors import ClusterError, ConfigError
from scenespark.jobs.progress import ProgressFn
from scenespark.types import MediaInfo, Modality, Video

_CLUSTER_KEY = "cluster"


@dataclass
class StagePools:
    frames: StagePool
    speech: StagePool
    lanes: int
    nodes: int

    @classmethod
    def start(cls, settings: Settings, plans: list[cluster.NodePlan]) -> StagePools:
        def maker(actor_cls: type, cpus: float, plan_scale: dict[str, float]):
            remote_cls = ray.remote(actor_cls)

            def make(node_id: str | None):
                if node_id is None:  # a replacement: no reservation, any node
                    options = {"num_cpus": 0}
                else:
                    options = {
                        "num_cpus": round(cpus * plan_scale[node_id], 3),
                        "scheduling_strategy": NodeAffinitySchedulingStrategy(node_id, soft=False),
                    }
                return remote_cls.options(max_restarts=0, max_task_retries=0, **options).remote(
                    settings
                )

            return make

        scale = {p.node_id: p.scale for p in plans}
        pools = cls(
            frames=StagePool("frames", maker(FramesActor, cluster.FRAMES_CPUS, scale)),
            speech=StagePool("speech", maker(SpeechActor, cluster.SPEECH_CPUS, scale)),
            lanes=sum(p.lanes for p in plans),
            nodes=len(plans),
        )
        for plan in plans:
            for _lane in range(plan.lanes):
                pools.frames.add(plan.node_id)
                pools.speech.add(plan.node_id)
        return pools

    def stop(self) -> None:
        for pool in (self.frames, self.speech):
            pool.stop()


class RayExtract:
    """An :data:`indexer.service.Extract` that runs the stages on the cluster's actors."""

    def __init__(self, pools: StagePools) -> None:
        self.pools = pools
        # speech waits beside frames: one helper thread per lane
        self._side = ThreadPoolExecutor(max_workers=max(1, pools.lanes), thread_name_prefix="ray")

    def __call__(
        self,
        engine: Engine,
        video: Video,
        modalities: list[Modality],
        info: MediaInfo,
        progress: ProgressFn,
    ) -> Extracted:
        stage_s: dict[str, float] = {}
        need_frames = needs_frame_scan(video, modalities)
        speech_future = None
        if Modality.SPEECH in modalities:
            speech_future = self._side.submit(self.pools.speech.call, "run", info, video.video_id)
        frames = None
        if need_frames:
            progress(0.1, "frames on the cluster")
            result = self.pools.frames.call("run", info, video.video_id, modalities)
            frames = result.frames
            stage_s["frames"] = result.elapsed_s
            _write_thumbnails(engine.settings.home, video.video_id, result.thumbnails)
            progress(0.6, f"frames done on {result.node_ip}")
        speech = None
        if speech_future is not None:
            progress(0.65, "speech on the cluster")
            speech_result = speech_future.result()
            speech = speech_result.speech
            stage_s["speech"] = speech_result.elapsed_s
        segments, sources = collect_segments(engine, modalities, speech, frames)
        return Extracted(segments, sources, speech, frames, stage_s)

    def close(self) -> None:
        self._side.shutdown(wait=True, cancel_futures=True)


def _write_thumbnails(home: Path, video_id: str, thumbnails: dict[str, bytes]) -> None:
    """The driver writes the JPEGs an actor returned under its own data dir."""
    prefix = ("media", "thumbs", video_id)
    for rel, data in thumbnails.items():
        parts = PurePosixPath(rel).parts
        if parts[:3] != prefix or len(parts) != 4 or parts[3] in ("..", "."):
            raise ClusterError(f"a Ray worker returned an unexpected thumbnail path {rel!r}")
        target = home.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_bytes(data)
        tmp.replace(target)


def index_files_on_ray(
    settings: Settings, files: list[Path], *, address: str, force: bool
) -> list[IndexOutcome]:
    """Index ``files`` with the stages on Ray; this process is the one writer."""
    if settings.visual_backend == "vlm":
        raise ConfigError(
            "--ray does not run the vision-LLM visual backend yet (its caption ledger is "
            "written during the frame scan): use SCENESPARK_VISUAL_BACKEND=tagger or clip"
        )
    # Ray prints cluster events (e.g. a node that died) on stdout: keep stdout for the summary
    with contextlib.redirect_stdout(sys.stderr):
        cluster.connect(address)
        pools: StagePools | None = None
        extract: RayExtract | None = None
        try:
            cluster.check_store(settings, cluster.alive_node_count())
            plans = cluster.plan_nodes()
            engine = Engine(settings)
            engine.vectors  # noqa: B018 - reach the Chroma server before starting any actor
            pools = StagePools.start(settings, plans)
            extract = RayExtract(pools)
            service = IndexService(engine, extract=extract)
            return _run_all(service, files, pools, force)
        finally:
            if extract is not None:
                extract.close()
            if pools is not None:
                pools.stop()
            ray.shutdown()


def _run_all(
    service: IndexService, files: list[Path], pools: StagePools, force: bool
) -> list[IndexOutcome]:
    done = 0
    guard = threading.Lock()
    started = time.perf_counter()
    with ProgressDisplay() as display:
        display.add(_CLUSTER_KEY, f"Ray: {pools.nodes} node(s), {pools.lanes} lane(s)")
        display.update(_CLUSTER_KEY, 0.0, f"0/{len(files)} videos")
        for index, path in enumerate(files):
            display.add(str(index), path.name[:40])

        def work(item: tuple[int, Path]) -> IndexOutcome:
            nonlocal done
            key, path = str(item[0]), item[1]
            outcome = service.index_file(
                path, force=force, on_progress=lambda f, m: display.update(key, f, m)
            )
            display.update(key, 1.0, outcome.action)
            if outcome.action == "failed":
                display.log(f"scenespark: {path}: {outcome.message}")
            with guard:
                done += 1
                rate = done / max(1e-6, time.perf_counter() - started) * 3600
                display.update(
                    _CLUSTER_KEY,
                    done / len(files),
                    f"{done}/{len(files)} videos, {rate:.0f} videos/h",
                )
            return outcome

        # one video per lane in flight (+1 so the driver's writing overlaps the next scan)
        with ThreadPoolExecutor(max_workers=pools.lanes + 1, thread_name_prefix="video") as pool:
            outcomes = list(pool.map(work, enumerate(files)))
    service.purge_orphans(older_than_s=0.0)
    return outcomes
