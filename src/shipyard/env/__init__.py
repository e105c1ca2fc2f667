"""Environments and their env files: what an environment is, its contract, its secrets.

``environment`` resolves an environment once (files, env files, project name,
images, from Compose's own model); ``envfiles`` reads and layers env files;
``envcheck`` checks them against the contract; ``explain`` says which source
won for every variable; ``envops`` creates and checks them (``env-init``,
``env-check``); ``datavolumes`` remembers which secrets a data volume was made
with; ``scan`` searches images for secret values.
"""
