"""`python -m intake`: one VT region's intake service."""

from vtkit.service import run_service

from intake.bootstrap import bootstrap
from intake.settings import Settings

if __name__ == "__main__":
    run_service("intake", Settings, bootstrap)
