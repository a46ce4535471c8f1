"""The Ansible playbook and role that push built configurations, shipped as ``ixp.ansible``.

A package only so that the wheel carries the playbook and role and ``ixp push``
finds them with ``importlib.resources`` (see ``setup.py``); run on its own as
``ansible-playbook ansible/push.yml -i inventory``.
"""
