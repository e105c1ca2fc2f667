"""Tasks for this project: shipyard's reusable collection (`inv --list`)."""

from shipyard.tasks import namespace

ns = namespace()
