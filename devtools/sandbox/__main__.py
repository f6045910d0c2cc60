"""`python -m devtools.sandbox --port N [--seed S] [--host H]`: serve the demo account until Ctrl-C."""

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
    args = parser.parse_args(argv)
    # Turn SIGTERM into a normal exit, so a supervisor's stop closes the socket like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    with N11Sandbox(SandboxState([generate_account(args.seed)]), args.host, args.port) as sandbox:
        print(f"N11 sandbox serving {sandbox.url} (appkey: {DEMO_API_KEY}); Ctrl-C to stop", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
