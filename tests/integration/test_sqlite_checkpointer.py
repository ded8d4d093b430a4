"""The served hub checkpoints SQLite's write-ahead log in the background, not on a committing request."""

import threading

import pytest
from fastapi.testclient import TestClient

from openrtcc.adapters.db.sqlite_checkpointer import SqliteCheckpointer
from openrtcc.web.app import create_app


@pytest.fixture(params=["sqlite"])
def backend(request) -> str:
    return request.param


def _running_checkpointers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "sqlite-checkpointer"]


def test_a_checkpoint_copies_the_whole_log_into_the_database(world, hub):
    world.camera(world.owner())  # some committed writes in the log
    [checkpointer] = [task for task in hub.extras["background"] if isinstance(task, SqliteCheckpointer)]
    busy, log_pages, copied = checkpointer.checkpoint()
    assert busy == 0 and log_pages > 0 and copied == log_pages
    with hub.extras["engine"].connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 10_000


def test_only_a_serving_hub_runs_it_and_stops_it_on_shutdown(settings, hub):
    before = len(_running_checkpointers())
    with TestClient(create_app(settings, hub)):
        assert len(_running_checkpointers()) == before + 1
    assert len(_running_checkpointers()) == before
