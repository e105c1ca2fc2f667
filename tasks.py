"""Tasks for this repository: shipyard's reusable collection, nothing else (`inv --list`)."""

from shipyard.tasks import namespace

ns = namespace()
