"""Run a flow now, as a real Prefect flow run (``PREFECT_API_URL``, else a quiet ephemeral API):

    KINERJA_TOKEN=$(kinerja token --role hr --agency PKTD) \\
        python -m flows cycle 1 --base-url http://127.0.0.1:8000 [--until STATE]
    python -m flows open-cycles --base-url ...      # every open cycle of the token's agency
    python -m flows sweep --base-url ...            # reminders and escalations only
    python -m flows surveys --base-url ... [--republish-open]

Prints the run's report as JSON on stdout; the exit status is 0 when the run completed. Time is
the real clock here (the simulated one lives inside a process: the demo and the tests).
"""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--base-url", required=True, help="the gateway or the embedded server")
    common.add_argument("--token", default=None, help="HR bearer token (default: $KINERJA_TOKEN)")
    cycle = sub.add_parser("cycle", parents=[common], help="carry one cycle on")
    cycle.add_argument("cycle_id", type=int)
    cycle.add_argument("--until", default=None, help="stop when the cycle reaches this state")
    cycle.add_argument("--batch-size", type=int, default=200)
    for name in ("open-cycles", "sweep"):
        p = sub.add_parser(name, parents=[common])
        p.add_argument("--batch-size", type=int, default=200)
    surveys = sub.add_parser("surveys", parents=[common], help="close ended campaigns, publish IKM")
    surveys.add_argument("--republish-open", action="store_true")
    args = parser.parse_args(argv)

    from .cycle import advance_open_cycles, evaluation_cycle, reminder_sweep
    from .runner import run_flow
    from .surveys import survey_aggregation

    base = {"base_url": args.base_url, "token": args.token}
    if args.command == "cycle":
        flow, params = (
            evaluation_cycle,
            {**base, "cycle_id": args.cycle_id, "until": args.until, "batch_size": args.batch_size},
        )
    elif args.command == "open-cycles":
        flow, params = advance_open_cycles, {**base, "batch_size": args.batch_size}
    elif args.command == "sweep":
        flow, params = reminder_sweep, {**base, "batch_size": args.batch_size}
    else:
        flow, params = survey_aggregation, {**base, "republish_open": args.republish_open}
    state = run_flow(flow, **params, return_state=True)
    if not state.is_completed():
        print(f"{flow.name}: {state.name}: {state.message}", file=sys.stderr)
        return 1
    json.dump(state.result(), sys.stdout, indent=2, ensure_ascii=False, default=str)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
