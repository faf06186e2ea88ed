"""The synthetic national load (loadgen.generate) and what drives it into a running stack:
submissions and event collection (drive), the chaos run (chaos) and the pipeline bench (bench).

    from loadgen import LoadProfile, generate
    items = generate(1000, seed=7)                     # list[LoadItem], the same for the same seed
"""

from loadgen.chaos import ChaosReport, run_chaos
from loadgen.drive import EventCollector, Submission, peak_rss_mib, percentiles, submit_all, submit_open_loop
from loadgen.generate import (
    ADVIEZEN_2023,
    CONTACTS_PER_YEAR,
    MELDINGEN_2023,
    POLICE_MELDINGEN_2023,
    LoadItem,
    LoadProfile,
    ProgressBar,
    build_advies,
    build_melding,
    generate,
    iterate,
    summary,
)

__all__ = ["ADVIEZEN_2023", "CONTACTS_PER_YEAR", "MELDINGEN_2023", "POLICE_MELDINGEN_2023", "ChaosReport",
           "EventCollector", "LoadItem", "LoadProfile", "ProgressBar", "Submission", "build_advies", "build_melding",
           "generate", "iterate", "peak_rss_mib", "percentiles", "run_chaos", "submit_all", "submit_open_loop", "summary"]
