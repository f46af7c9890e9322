"""Lanban: a kanban board for small teams on one network.

The code lives in the repository's top-level folders (``model/``, ``sync/``, ``desktop/``,
``resources/``); pyproject.toml installs them as ``lanban.model``, ``lanban.sync``,
``lanban.desktop`` and ``lanban.resources``, so ``lanban`` is the only top-level name a
user's site-packages gains. This folder holds only the package's own entry points.
"""
