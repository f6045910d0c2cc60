"""`python -m devtools.sandbox --port N [--seed S] [--host H] [--order-date-filter created]`: serve the demo
account until Ctrl-C; ``--order-date-filter created`` makes ``orderByField=true`` only sort, so the date window
filters creation dates (the reading of N11's pages the orders' safety net guards against)."""

import argparse
import contextlib
import signal
import sys
import threading

from devtools.sandbox import DEMO_API_KEY, N11Sandbox, SandboxState, generate_account


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools.sandbox", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks a free one")
    parser.add_argument("--seed", type=int, default=42, help="seed of the demo data")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--order-date-filter", choices=("modified", "created"), default="modified",
                        help="what orderByField=true filters: the last modification (as documented) or creation")
    parser.add_argument("--empty-pages", type=int, choices=(0, 1), default=0,
                        help="the totalPages of an empty answer: 0, or 1 as N11 answers a queued task's details")
    args = parser.parse_args(argv)
    # Turn SIGTERM into a normal exit, so a supervisor's stop closes the socket like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    state = SandboxState([generate_account(args.seed)], order_date_filter=args.order_date_filter,
                         empty_pages=args.empty_pages)
    with N11Sandbox(state, args.host, args.port) as sandbox:
        filtered = "creation" if args.order_date_filter == "created" else "last modification"
        print(f"N11 sandbox serving {sandbox.url} (appkey: {DEMO_API_KEY}, orderByField filters {filtered}); "
              "Ctrl-C to stop", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
