"""``shipyard init``: bring an existing project in.

``detect`` reads what the project's packaging metadata says (its
pyproject.toml, requirements, locks) and ``code`` what its Python code says
(app, variables, services); ``findings`` turns both into one finding
per setting; ``plan`` resolves the settings, shows where each
came from and writes the files; ``render`` fills the templates under
``templates/`` from the one resolved :class:`~shipyard.adopt.render.Adoption`.
"""
