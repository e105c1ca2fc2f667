"""Modules the tasks use, loaded when a task first touches them, not when inv starts.

``inv --list`` and shell completion import every task module; with lazy
modules they pay for invoke and the task signatures only, not for Compose
models, builds and health checks (importlib's own LazyLoader).
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy(name: str) -> ModuleType:
    """Return module ``name``, executed on first attribute access (at once if already loaded)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:  # pragma: no cover - our own modules exist
        msg = f"no module {name}"
        raise ImportError(msg)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module
