"""Packaging beyond what pyproject.toml can say: the top-level ``templates/``,
``migrations/`` and ``ansible/`` folders are shipped inside the package as
``ixp.templates``, ``ixp.migrations`` and ``ixp.ansible``, so an installed wheel
renders configurations, migrates databases and pushes exactly as a checkout does
(pyproject's package discovery only finds folders below ``ixp/``)."""

from setuptools import find_namespace_packages, setup

BUNDLED = {"ixp.templates": "templates", "ixp.migrations": "migrations", "ixp.ansible": "ansible"}

# Namespace discovery, as pyproject's would do: ixp/data/* hold data files only.
CACHES = ["__pycache__", "*.__pycache__"]
FOUND = find_namespace_packages(include=["ixp", "ixp.*", "api", "api.*"], exclude=CACHES)

for package, folder in BUNDLED.items():
    subpackages = find_namespace_packages(where=folder, exclude=CACHES)
    FOUND += [package, *(f"{package}.{sub}" for sub in subpackages)]

setup(packages=FOUND, package_dir=BUNDLED)
