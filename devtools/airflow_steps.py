"""`airflow` CLI commands run one after another in one process, the stores' pools (include.cli.pools) last: each
command in a process of its own would pay Airflow's start again (about 4 s of CPU on this machine).

    python -m devtools.airflow_steps '[["db", "migrate"], ["variables", "import", "vars.json"]]'
"""

from __future__ import annotations

import json
import sys


def main(steps: list[list[str]]) -> int:
    from airflow.cli import cli_parser

    from include.cli.pools import pools_file

    parser = cli_parser.get_parser()
    with pools_file() as pools:
        for step in [*steps, ["pools", "import", pools]]:
            args = parser.parse_args(step)
            args.func(args)
    return 0


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))
