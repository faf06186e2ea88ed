"""`python -m verwijsindex`: the Verwijsindex risicojongeren."""

from vtkit.service import run_service

from verwijsindex.bootstrap import bootstrap
from verwijsindex.settings import Settings

if __name__ == "__main__":
    run_service("verwijsindex", Settings, bootstrap)
