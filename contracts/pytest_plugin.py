"""pytest plugin: fixtures that start the sandbox in-process on free ports."""
