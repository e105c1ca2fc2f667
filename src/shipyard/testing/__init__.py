"""``docker-test``: throwaway test runs in the image, and the reaper of dead ones.

``testrun`` builds the test image, runs the suite against a stack of its own
and always tears it down; ``runs`` names and labels each run, proves it alive
with a lock, and reaps what dead runs left (``inv gc``).
"""
