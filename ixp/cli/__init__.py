"""The ``ixp`` command line (typer): thin wrappers over the service functions."""
