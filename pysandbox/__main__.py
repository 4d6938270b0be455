"""Console entry point. `run` takes a fast path (argparse, no typer/pydantic) for start-up latency."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:2] == ["run"]:
        from pysandbox.cli_run import main as run_main

        sys.exit(run_main(sys.argv[2:]))
    from pysandbox.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
