"""Developer tools: never shipped (pyproject.toml installs only ``lanban``)."""
