"""The BIRD configuration and member-snippet templates, shipped as ``ixp.templates``.

A package only so that the wheel carries the ``.j2`` files and
``importlib.resources`` finds them (see ``setup.py``); it holds no code.
"""
