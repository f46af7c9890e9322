"""The installed version of Lanban (pyproject.toml's ``project.version``)."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from importlib import metadata
from typing import Any

# Written by packaging/lanban.spec at build time: a frozen app has no package metadata.
BUILD_INFO_MODULE = "lanban_build_info"


def version() -> str:
    if getattr(sys, "frozen", False):
        try:
            return str(importlib.import_module(BUILD_INFO_MODULE).VERSION)
        except (ImportError, AttributeError):
            pass
    try:
        return metadata.version("lanban")
    except metadata.PackageNotFoundError:
        return "unknown"


class VersionAction(argparse.Action):
    """``--version``, looked up only when asked for: reading package metadata takes ~50 ms."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        kwargs.setdefault("help", "print the version and exit")
        super().__init__(
            option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, nargs=0, **kwargs
        )

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        print(f"lanban {version()}")
        parser.exit()
