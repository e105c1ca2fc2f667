"""shipyard's invoke tasks as one reusable Collection.

A project's ``tasks.py`` is only::

    from shipyard.tasks import namespace
    ns = namespace()
"""

from __future__ import annotations

from invoke.collection import Collection

from shipyard.tasks import deploy, env, images, stack
from shipyard.tasks._edge import quiet_closed_pipe


def namespace() -> Collection:
    """Return every shipyard task in one flat Collection (``inv dev-up``, ``inv status``...)."""
    quiet_closed_pipe()
    ns = Collection()
    for module in (stack, images, deploy, env):
        for name in module.__all__:
            ns.add_task(getattr(module, name))
    return ns
