"""`python -m radar`: the radar service (faust worker + gRPC)."""

from vtkit.service import run_service

from radar.bootstrap import bootstrap
from radar.settings import Settings

if __name__ == "__main__":
    run_service("radar", Settings, bootstrap)
