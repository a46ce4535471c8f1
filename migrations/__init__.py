"""The Alembic migrations, shipped as ``ixp.migrations``.

A package only so that the wheel carries them and ``ixp db upgrade`` finds them
through ``importlib.resources`` (see ``setup.py``); Alembic loads the scripts itself.
"""
