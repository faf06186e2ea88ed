"""The suite on one machine for development and the tests: the embedded broker (broker), service processes
(processes), the whole stack (stack, `python -m devstack` = `make run`), the demo and its command line (demo, cli),
and the example meldingen the demo and the tests send (scenario)."""
