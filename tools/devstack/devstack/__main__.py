"""`python -m devstack` (`make run`): the whole suite on this machine (devstack.stack)."""

from devstack.stack import main

main()
