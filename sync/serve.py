"""``lanban serve`` and ``lanban status``: the headless node and asking it how it is."""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from .local_status import read_node_file
from .node import Node, NodeError, NodeOptions
from .runner import run_until_signal
from .status import NodeStatus
from .status_text import ago, summarize
from .store import Store, StoreError

STATUS_TIMEOUT_S = 5.0


def run_serve(store: Store, options: NodeOptions) -> int:
    """Run a node until SIGINT or SIGTERM; print ``listening on HOST:PORT`` once ready."""

    def ready(node: Node) -> None:
        host, port = node.address
        print(f"listening on {host}:{port}", flush=True)
        for problem in node.problems:
            print(f"lanban serve: warning: {problem}", file=sys.stderr, flush=True)

    return run_until_signal("serve", lambda: Node(store, options), ready, (NodeError, StoreError))


def fetch_status(data_dir: Path) -> NodeStatus:
    info = read_node_file(data_dir)
    url = f"http://127.0.0.1:{int(info['port'])}/status"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {info['token']}"})
    try:
        with urllib.request.urlopen(request, timeout=STATUS_TIMEOUT_S) as response:
            data = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise NodeError(
            f"the node for {data_dir} (pid {info.get('pid')}) does not answer: {exc}; "
            "it may have stopped"
        ) from exc
    try:
        return NodeStatus.from_json(data)
    except ValueError as exc:
        raise NodeError(f"the node sent a status this version cannot read: {exc}") from exc


def format_status(status: NodeStatus) -> str:
    now = time.time()
    lines = [
        f"node {status.name or '(no name)'} ({status.node_id[:12]}) "
        f"listening on {status.listening}" + ("" if status.discovery else ", LAN discovery off")
    ]
    if status.member_id:
        lines.append(f"member id {status.member_id}")
    peers = status.peers
    lines.append(f"{len(peers)} peer(s) connected" + (":" if peers else ""))
    for p in peers:
        lines.append(
            f"  {p.name or p.node_id[:12]} at {p.address}, "
            f"connected {ago(p.connected_since, now)}, last heard {ago(p.last_heard, now)}"
        )
    for b in status.boards:
        relay = ", relay linked" if b.relay else ""
        summary = summarize(b, now)
        lines.append(f"board {b.title or '(not synced yet)'} ({b.id}): {summary.text}")
        lines.append(
            f"  {b.connected_peers} peer(s){relay}, "
            f"{b.local_changes_not_seen_by_peers} local change(s) not seen by any peer, "
            f"last sync {ago(b.last_sync, now)}"
        )
        lines.extend(f"  {line}" for line in summary.tries)
        if b.problem:
            lines.append(f"  PROBLEM: {b.problem}")
    for problem in status.problems:
        lines.append(f"problem: {problem}")
    return "\n".join(lines)
