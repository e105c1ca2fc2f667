"""Shipping built images: push and promote through a registry, deploy to Docker Swarm.

``registry`` pushes an environment's images under their commit and promotes
them by digest; ``swarm`` deploys, rolls back and reports a stack on a swarm,
from the stack file ``stackfile`` builds out of the Compose model, with the
Swarm secrets of ``swarmsecrets``, waiting until ``converge`` sees it converged.
"""
