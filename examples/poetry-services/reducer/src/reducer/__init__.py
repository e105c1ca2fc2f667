"""The reducer: sums what the orchestrator sends it."""
