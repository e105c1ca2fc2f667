"""Three roles of one data platform, each shipped as its own image."""
