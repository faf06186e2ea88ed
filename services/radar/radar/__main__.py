"""`python -m radar`: the radar service (faust worker + gRPC), configured from the environment."""

from vtkit.service import run

from radar.bootstrap import make_main
from radar.settings import load


def main() -> None:
    settings, kafka = load()
    run("radar", make_main(settings, kafka), level=settings.log_level)


if __name__ == "__main__":
    main()
