"""The BGP monitor: what the route servers hold and how every member session is doing.

- BIRD is read over its control socket with :mod:`ixp.bird` (shared with the lab).
- ``ingest`` / ``rib``: ExaBGP's JSON stream, decoded by :mod:`ixp.exabgp.decode`, into
  the in-memory RIB of each route server (``collector`` runs and restarts ExaBGP with
  :mod:`ixp.exabgp`; ``ixp.exabgp.relay`` is its API process).
- ``sessions``, ``alerts``: session states and events in the database, alert rules.
- ``routes``: a member's accepted or filtered routes with decoded reject reasons.
- ``reach``: RIR delegated-extended files and domestic reachability.
- ``metrics``: Prometheus metrics; ``service``: the long-running loop (``ixp monitor run``).
"""
