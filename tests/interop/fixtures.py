"""Pytest fixtures for interop tests with real Node processes.

Use them from a test module with
``from tests.interop.fixtures import lanban_relay, node_client, node_modules, stock_relay``
(or list this module in a conftest's ``pytest_plugins``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.interop.harness import (
    NodeClient,
    NodeUnavailable,
    RelayProcess,
    StockRelay,
    ensure_node_modules,
)


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """tests/interop with its pinned npm packages installed; skips without ``node``."""
    try:
        return ensure_node_modules()
    except NodeUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture
def stock_relay(node_modules: Path) -> Iterator[StockRelay]:
    """The stock ``@y/websocket-server`` on a free loopback port (``.url``)."""
    relay = StockRelay()
    yield relay
    relay.stop()


@pytest.fixture
def node_client(node_modules: Path) -> Iterator[Callable[..., NodeClient]]:
    """``node_client(url, room, *, maps=("map",), token=None, awareness=None,
    client_id=None) -> NodeClient``; every client is stopped after the test."""
    started: list[NodeClient] = []

    def start(url: str, room: str, **kwargs: Any) -> NodeClient:
        client = NodeClient(url, room, **kwargs)
        started.append(client)
        return client

    yield start
    for client in started:
        client.close()


@pytest.fixture
def lanban_relay(tmp_path: Path) -> Iterator[Callable[..., RelayProcess]]:
    """``lanban_relay(*, token=None, data_dir=None, cli=False) -> RelayProcess``: ``python -m
    lanban.sync.relay`` (``lanban relay`` with ``cli``) on a free loopback port;
    stopped (SIGTERM) after the test if still up."""
    started: list[RelayProcess] = []

    def start(
        *, token: str | None = None, data_dir: Path | None = None, cli: bool = False
    ) -> RelayProcess:
        relay = RelayProcess(data_dir or tmp_path / "relay-data", token=token, cli=cli)
        started.append(relay)
        return relay

    yield start
    for relay in started:
        relay.stop()
