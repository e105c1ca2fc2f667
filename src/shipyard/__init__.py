"""shipyard: build automation for containerised Python services."""

__version__ = "0.1.0"
