"""`python -m ops`: the operations dashboard on http://$OPS_HOST:$OPS_HTTP_PORT/ (and /metrics)."""

from vtkit.service import run_service

from ops.bootstrap import bootstrap
from ops.settings import Settings

if __name__ == "__main__":
    run_service("ops", Settings, bootstrap)
