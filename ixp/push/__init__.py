"""Pushes: delivering a built configuration to the route servers, one at a time, safely.

``ixp push`` (and the nightly timer) runs :func:`ixp.push.pipeline.run_push`:

1. **Build** with fresh registry and RPKI data, recorded like ``ixp rs build``;
   stop when anything is held for approval, unless approved.
2. **Diff** each route server's new configuration against the one running there
   (every pushed version is kept in the database, :mod:`ixp.push.versions`):
   per member, what its filter, sessions and settings gain and lose, plus the
   unified diff (:mod:`ixp.push.diff`).
3. **Impact preview** (:mod:`ixp.push.impact`): the new configuration in a
   scratch BIRD in its own network namespaces, fed the routes every member
   offers the live route server now, by one small BIRD per member; per member
   the routes that would newly be filtered (and why) or accepted. Past the
   thresholds the push stops until approved.
4. **Canary, then the other**: Ansible (``ansible/push.yml``, run by
   :mod:`ixp.push.ansible`) places, checks, swaps and applies the file with
   BIRD's undo timer, checks health (:mod:`ixp.push.health`) and confirms; a
   failure undoes it and the other route server is never touched.
5. **Record** everything (:mod:`ixp.push.records`), under a lock that also
   covers the paired route server; a run killed half way is found and rolled
   back by the next.
"""
