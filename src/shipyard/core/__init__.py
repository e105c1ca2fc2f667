"""The ground floor: errors, the one subprocess door, settings, the workspace, the engine, Compose.

Everything above stands on these and nothing here imports from a higher wing:
``errors`` (the one hierarchy), ``process`` (the only module that runs a
process), ``config`` (``[tool.shipyard]`` as a ``Stack``), ``workspace`` (the
checkout a command works in), ``engine`` (what the machine's Docker can do),
``compose`` (argv for ``docker compose`` and reads of its files) and ``edge``
(where errors become an ``ERROR``/``TIP`` and an exit status).
"""
