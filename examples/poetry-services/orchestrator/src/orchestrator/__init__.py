"""The orchestrator: takes jobs and hands them to the reducer."""
