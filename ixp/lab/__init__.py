"""The exchange on one machine: route servers and members live in network namespaces.

``ixp lab up`` / ``ixp lab down`` for operators, and the harness of every test
that needs real BGP (route-server policy, monitor, member snippets). Needs root,
iproute2, BIRD 2 and ExaBGP (and FRR for FRR members);
:func:`ixp.lab.netns.available` says why not when they are missing.

Layout on the machine: a namespace ``<prefix>-lan`` holds a bridge, the peering
LAN; every route server (``<prefix>-rs-<name>``) and member (``<prefix>-as<asn>``)
has a namespace with one veth ``lan0`` on it carrying its LAN addresses. The
prefix (``ixp`` + 6 random hex digits) is per run, so labs of concurrent test
runs never meet. Files (configs, control sockets, logs, received routes) live
under ``settings.home/lab/<prefix>/``; ``settings.home/lab/state.json`` records
what exists so ``down`` removes exactly that, also from another process after
a crash.

Python API::

    from ixp.lab.lab import Lab
    from ixp.lab.exabgp import Route

    lab = Lab.from_database(session, settings)        # configs from ixp.rs.build
    lab = Lab.from_database(session, settings, routes={38001: [Route("45.64.0.0/20")]})
    lab = Lab(layout, settings, {"rs1": config_text})  # any layout, any BIRD config
    lab.up()                       # namespaces, BIRD per route server, ExaBGP per member
    lab.wait_converged(skip=[asn]) # sessions up, routes imported, receivers caught up
    lab.birdc("rs1", "show route filtered all")       # raw birdc answer
    lab.bird("rs1").routes("filtered")                # parsed: list[BirdRoute]
    lab.sessions("rs1")            # neighbor address -> ProtocolStatus (state, counts)
    lab.member(38001).received()   # (rs address, prefix) -> ReceivedRoute
    lab.member(38001).announce([...])                  # change routes, no session reset
    lab.member(38001).stop(); lab.member(38001).start(); lab.save()
    lab.node("as38001").namespace  # namespace and addresses of any node
    lab.add_member(MemberNode(asn, name, ipv4, ipv6))  # a late joiner or a collector speaker
    Lab.from_database(session, settings, routers={38002: "frr", 38003: "bird"})
    lab.router(38002).received()   # a member on FRR or BIRD running its ixp member snippet
    lab.add_node("collector", ipv4, ipv6)             # a bare namespace on the LAN
    lab.reconfigure("rs1", new_config)                # try a policy change live
    lab.down()
    Lab.load(settings)             # the lab another process started (state file)

Modules: :mod:`~ixp.lab.netns` (namespaces, bridge, veths, the one subprocess
wrapper), :mod:`~ixp.lab.bird` (BIRD daemon; queries through :mod:`ixp.bird`),
:mod:`~ixp.lab.member` (what every member router is: routes out, routes held),
:mod:`~ixp.lab.exabgp` (ExaBGP speakers, received-route replay; ExaBGP itself is
run, relayed and decoded by :mod:`ixp.exabgp`, as for the monitor),
:mod:`~ixp.lab.routers` (FRR and BIRD members running their snippets),
:mod:`~ixp.lab.layout` (who is in the lab; built from the database),
:mod:`~ixp.lab.lab` (the lab), :mod:`~ixp.lab.monitoring` (the monitor pointed at
a running lab).
"""
