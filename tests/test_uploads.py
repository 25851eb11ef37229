"""Uploads over HTTP: only videos are kept, under a server-made name with the container's
extension; rejected and duplicate uploads leave nothing behind; an upload never re-points an
indexed video; the optional quota; removing an uploaded video removes its file.

Real app with its lifespan, real SQLite catalog, real ffprobe on generated media (conftest).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from scenespark.config import Settings
from scenespark.engine import Engine
from scenespark.media.containers import ContainerInfo, video_extension
from scenespark.types import Video, VideoStatus
from server.app import create_app

BASE = "http://localhost:8000"
OWN = {"origin": BASE}


@pytest.fixture
def up_settings(tmp_path: Path) -> Settings:
    library = tmp_path / "library"
    library.mkdir()
    return Settings(home=tmp_path / "home", library_roots=[library], max_upload_mb=2)


@pytest.fixture
def up_engine(up_settings: Settings) -> Iterator[Engine]:
    engine = Engine(up_settings)
    yield engine
    engine.close()


@pytest.fixture
def client(up_settings: Settings, up_engine: Engine) -> Iterator[TestClient]:
    app = create_app(up_settings, engine=up_engine, start_workers=False)
    with TestClient(app, base_url=BASE) as test_client:
        yield test_client


def _upload(client: TestClient, name: str, data: bytes, mime: str = "video/mp4"):
    return client.post("/api/v1/videos", files={"file": (name, data, mime)}, headers=OWN)


def _stored(settings: Settings) -> list[Path]:
    folder = settings.home / "uploads"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


def test_container_extensions() -> None:
    def info(fmt: str, brand: str = "", video=("h264",), audio=()) -> ContainerInfo:
        return ContainerInfo(fmt, brand, tuple(video), tuple(audio), 1.0)

    assert video_extension(info("mov,mp4,m4a,3gp,3g2,mj2", "isom")) == ".mp4"
    assert video_extension(info("mov,mp4,m4a,3gp,3g2,mj2", "qt")) == ".mov"
    assert video_extension(info("matroska,webm", video=("vp9",), audio=("opus",))) == ".webm"
    assert video_extension(info("matroska,webm", video=("h264",), audio=("aac",))) == ".mkv"
    assert video_extension(info("avi")) == ".avi"
    assert video_extension(info("gif")) is None
    assert video_extension(info("html")) is None


def test_a_video_named_html_is_stored_and_served_as_mp4(
    client: TestClient, up_settings: Settings, short_video: Path
) -> None:
    data = short_video.read_bytes()
    response = _upload(client, "holiday.html", data, "text/html")
    assert response.status_code == 202, response.text
    [stored] = _stored(up_settings)
    assert stored.name == "holiday.mp4" and stored.read_bytes() == data
    assert stored.parent.name == hashlib.sha256(data).hexdigest()[:16]
    assert response.json()["path"] == f"uploads/{stored.parent.name}/holiday.mp4"
    served = client.get(f"/media/files/../uploads/{stored.parent.name}/holiday.mp4")
    assert served.status_code in (403, 404)  # uploads are not under /media/files/


@pytest.mark.parametrize(
    ("name", "fixture"),
    [("page.mp4", None), ("song.mp4", "audio_only"), ("bad.mp4", "corrupt_video")],
)
def test_non_videos_are_422_and_deleted(
    client: TestClient,
    up_settings: Settings,
    request: pytest.FixtureRequest,
    name: str,
    fixture: str | None,
) -> None:
    data = (
        b"<html><script>fetch('/api/v1/videos')</script></html>" * 20
        if fixture is None
        else request.getfixturevalue(fixture).read_bytes()
    )
    body = _problem(_upload(client, name, data), 422)
    assert str(up_settings.home) not in body["detail"]
    assert _stored(up_settings) == []


def test_duplicate_uploads_keep_one_file(
    client: TestClient, up_settings: Settings, short_video: Path
) -> None:
    data = short_video.read_bytes()
    first = _upload(client, "a.mp4", data)
    second = _upload(client, "b.mkv", data)
    assert first.status_code == second.status_code == 202, second.text
    assert first.json()["path"] == second.json()["path"]
    assert len(_stored(up_settings)) == 1


def test_an_upload_never_repoints_an_indexed_video(
    client: TestClient, up_settings: Settings, up_engine: Engine, short_video: Path
) -> None:
    data = short_video.read_bytes()
    library_copy = up_settings.library_roots[0] / "keynote.mp4"
    library_copy.write_bytes(data)
    video_id = hashlib.sha256(data).hexdigest()[:16]
    up_engine.catalog.upsert_video(
        Video(
            video_id=video_id,
            path=str(library_copy),
            title="keynote",
            duration_s=0.5,
            status=VideoStatus.READY,
        )
    )
    response = _upload(client, "stolen.mp4", data)
    assert response.status_code == 202, response.text
    assert response.json()["video_id"] == video_id
    assert _stored(up_settings) == []
    assert up_engine.catalog.get_video(video_id).path == str(library_copy)
    job = client.get(response.json()["job"]["url"]).json()
    assert Path(job["params"]["path"]) == library_copy


def test_upload_quota_is_507_and_leaves_nothing(
    tmp_path: Path, short_video: Path, up_settings: Settings
) -> None:
    settings = up_settings.model_copy(update={"upload_quota_mb": 1})
    filler = settings.home / "uploads" / "0123456789abcdef" / "old.mp4"
    filler.parent.mkdir(parents=True)
    filler.write_bytes(b"\0" * (1024 * 1024 - 100))
    with TestClient(create_app(settings, start_workers=False), base_url=BASE) as client:
        body = _problem(_upload(client, "new.mp4", short_video.read_bytes()), 507)
        assert "SCENESPARK_UPLOAD_QUOTA_MB" in body.get("hint", "")
    assert _stored(settings) == [filler]


def test_removing_an_uploaded_video_removes_its_file(
    client: TestClient, up_settings: Settings, up_engine: Engine, short_video: Path
) -> None:
    assert _upload(client, "gone.mp4", short_video.read_bytes()).status_code == 202
    [stored] = _stored(up_settings)
    video_id = stored.parent.name
    up_engine.catalog.upsert_video(
        Video(video_id=video_id, path=str(stored), title="gone", status=VideoStatus.READY)
    )
    assert client.delete(f"/api/v1/videos/{video_id}", headers=OWN).status_code == 204
    assert not stored.exists() and not stored.parent.exists()


def test_an_upload_rejected_at_indexing_is_deleted(
    up_settings: Settings, truncated_faststart_video: Path
) -> None:
    """The header passes ffprobe, the data is cut: indexing fails, and the file goes."""
    app = create_app(up_settings, start_workers=True, warm_up=False)
    with TestClient(app, base_url=BASE) as client:
        response = _upload(client, "cut.mp4", truncated_faststart_video.read_bytes())
        assert response.status_code == 202, response.text
        assert len(_stored(up_settings)) == 1
        url = response.json()["job"]["url"]
        deadline = time.monotonic() + 120
        job = client.get(url).json()
        while job["status"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.2)
            job = client.get(url).json()
    assert job["status"] == "failed", job
    assert str(up_settings.home) not in job["error"] and "truncated" in job["error"]
    assert _stored(up_settings) == []
