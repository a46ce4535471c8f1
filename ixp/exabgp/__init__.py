"""ExaBGP as ixp runs it, shared by the monitor's collectors and the lab's member speakers.

- ``config``: configuration text (neighbors, the API process) from checked tokens.
- ``process``: ExaBGP's environment and command line, starting and stopping it, its log.
- ``relay``: the API process ExaBGP starts: its JSON stream out to a file or FIFO,
  text-API commands from a named pipe in.
- ``decode``: ExaBGP's JSON stream turned into typed, checked messages.

The monitor must not depend on the lab (a test and demo tool), and the lab must
not carry a second copy of what the monitor needs: both build on this package.
"""
