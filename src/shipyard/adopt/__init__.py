"""``shipyard init``: bring an existing project in.

``detect`` reads what the project already says (its pyproject.toml,
requirements, code); ``plan`` resolves the settings, shows where each came
from and writes the files; ``render`` fills the templates under
``templates/`` from the one resolved :class:`~shipyard.adopt.render.Adoption`.
"""
