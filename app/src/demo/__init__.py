"""shipyard's reference service: an API and a worker sharing one image."""
