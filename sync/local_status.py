"""How tools on the same machine find and ask a running node.

``node.json`` in the data directory says where the node listens and the token
its ``/status`` HTTP endpoint wants (readable by the owner only); the endpoint
answers :meth:`.status.NodeStatus.to_json`. ``lanban status`` reads one and
asks the other (:mod:`.serve`).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from .status import NodeStatus

NODE_FILE = "node.json"


class NodeError(Exception):
    """The node cannot start or do what was asked; the message says why."""


def write_node_file(root: Path, data: dict[str, Any]) -> None:
    """Replace ``root/node.json`` (mode 0600) at once; OSError if it cannot."""
    path = root / NODE_FILE
    tmp = path.with_name(f".{NODE_FILE}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def running_pid(root: Path) -> str:
    """`` (pid N)`` of the node ``root/node.json`` names, or "" if it cannot be read."""
    try:
        data = json.loads((root / NODE_FILE).read_text())
        return f" (pid {int(data['pid'])})"
    except (OSError, ValueError, KeyError, TypeError):
        return ""


def read_node_file(data_dir: Path) -> dict[str, Any]:
    path = data_dir / NODE_FILE
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise NodeError(
            f"no Lanban node is running for {data_dir} (start one: lanban serve)"
        ) from None
    except (OSError, ValueError) as exc:
        raise NodeError(f"{path} cannot be read: {exc}") from exc
    if not isinstance(data, dict) or not {"port", "token"} <= set(data):
        raise NodeError(f"{path} is damaged")
    return data


def answer_http(
    connection: ServerConnection,
    request: Request,
    token: str,
    status: Callable[[], NodeStatus],
) -> Response | None:
    """The node server's answer to a plain HTTP request; None: go on to ``/p2p``."""
    path = urlsplit(request.path)
    if path.path == "/p2p":
        return None
    if path.path == "/status":
        given = parse_qs(path.query).get("token", [""])[0]
        auth = request.headers.get("Authorization", "")
        if not (
            secrets.compare_digest(given, token) or secrets.compare_digest(auth, f"Bearer {token}")
        ):
            return connection.respond(HTTPStatus.UNAUTHORIZED, "status token required\n")
        body = json.dumps(status().to_json(), indent=2) + "\n"
        response = connection.respond(HTTPStatus.OK, body)
        response.headers = Headers(
            [(k, v) for k, v in response.headers.raw_items() if k.lower() != "content-type"]
        )
        response.headers["Content-Type"] = "application/json"
        return response
    return connection.respond(HTTPStatus.NOT_FOUND, "not a Lanban endpoint\n")
