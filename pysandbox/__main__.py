"""Console entry point. `run` takes a fast path (argparse, no typer/pydantic) for start-up latency."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:2] == ["run"]:
        import gc

        # One short-lived launch: the cyclic collector would only walk the freshly imported modules
        # (a full pass costs ~1.5 ms here); whatever cycles remain go with the process.
        gc.disable()
        from pysandbox import importcache

        importcache.install()
        from pysandbox.cli_run import main as run_main

        sys.exit(run_main(sys.argv[2:]))
    from pysandbox.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
