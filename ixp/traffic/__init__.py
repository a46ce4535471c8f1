"""Traffic over the exchange's fabric, measured with sFlow.

- ``sflow``: sFlow version 5 datagrams, decoded (``decode``) and, on the collector's hot
  path, tallied straight into counts without an object per sample (``tally``).
- ``buckets``: those counts in 5-minute buckets: the member-to-member matrix by MAC
  address, per-agent health (lost, malformed, dropped) and per-port interface counters.
- ``sampling``: how far a sampled estimate can be trusted (the confidence interval).
- ``sflowgen``: an encoder writing valid sFlow v5 streams, for tests, the benchmark
  and the demo.
- ``pmacct``: the shipped ``sfacctd`` configuration and the JSON lines it writes, for
  exchanges that put pmacct in front.

No module here imports the web layer, and nothing runs at import time.
"""
