"""The web front end of ixp: the REST API, the looking glass and the portal pages.

A thin shell over ``ixp/``: it authenticates, checks who may see what, and turns
domain errors into problem+json; every decision about the exchange's data is
made by the same service functions the CLI calls.
"""
