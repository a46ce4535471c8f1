"""Routing-registry (IRR) data: sources, AS-SET expansion and the cached prefix lists.

Two sources sit behind one interface (``sources``): bgpq4 against a whois/IRRd
server, and local RPSL dumps indexed once (``rpsl``, ``index``). ``service``
stores each member's result with the safety rules that keep a filter from ever
becoming silently empty or open.
"""
