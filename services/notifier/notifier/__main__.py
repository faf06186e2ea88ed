"""`python -m notifier`: the notifier (deliveries, letters, notices, region inbox)."""

from vtkit.service import run_service

from notifier.bootstrap import bootstrap
from notifier.settings import Settings

if __name__ == "__main__":
    run_service("notifier", Settings, bootstrap)
