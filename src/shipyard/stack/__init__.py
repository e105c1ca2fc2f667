"""Running a stack: images and builds, health waits, up and down, doctor, lint rules.

``images`` turns an environment's images into build argv or a bake file;
``builds`` runs them; ``health`` waits for healthy services and finished jobs;
``stacks`` brings an environment up and down and reports its status;
``doctor`` checks every prerequisite; ``lintrules`` are the stack rules of
``nox -s lint``; ``dockerignore`` says which files a build context sends.
"""
