"""`airflow` CLI commands run one after another in one process, then the stores' pools (include.cli.pools): each
command in a process of its own would pay Airflow's start again (about 4 s of CPU on this machine).

    python -m devtools.airflow_steps '[["db", "migrate"], ["variables", "import", "vars.json"]]'
"""

from __future__ import annotations

import json
import sys


def main(steps: list[list[str]]) -> int:
    from airflow.cli import cli_parser

    from include.cli import pools

    parser = cli_parser.get_parser()
    for step in steps:
        args = parser.parse_args(step)
        args.func(args)
    return pools.main()


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))
