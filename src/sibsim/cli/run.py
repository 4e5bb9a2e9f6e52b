"""``sibsim run FILE --out RESULT.nc|RUN.zarr``: simulate and write the results."""

from __future__ import annotations

import contextlib

from sibsim.cli.common import add_scenario_argument, positive_int, say, seed

NAME = "run"


def add_parser(sub) -> None:
    parser = sub.add_parser(
        NAME, help="simulate a scenario and write the results (netCDF or a zarr store)",
        description="Simulate a scenario and write the result Dataset. A .nc output is "
                    "written once the run is done (atomically: a failed or interrupted run "
                    "leaves no file and an existing one untouched). A .zarr output is written "
                    "chunk by chunk as the run goes: its memory depends on --chunk-draws, not "
                    "on --draws, and the same command run again resumes an interrupted run.")
    add_scenario_argument(parser)
    parser.add_argument("--out", required=True, metavar="RESULT.nc|RUN.zarr",
                        help="the result: a netCDF file (.nc) or a zarr store (.zarr)")
    parser.add_argument("--draws", type=positive_int, default=2000, help="Monte Carlo draws")
    parser.add_argument("--seed", type=seed, default=1, help="random seed")
    parser.add_argument("--resolution", choices=("month", "year"), default="month",
                        help="time resolution of occupancy, cost and payment")
    parser.add_argument("--threads", type=positive_int, default=None,
                        help="numba threads per process (default: all cores); never changes "
                             "the results")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="run on a dask cluster: the scheduler's address "
                             "(tcp://host:8786), or 'local' / 'local:N' for a cluster of N "
                             "processes on this machine (default: run in this process)")
    parser.add_argument("--chunk-draws", type=positive_int, default=None, metavar="N",
                        help="draws per chunk (default: as many as fit 256 MiB); a zarr run "
                             "resumes only with the same value")
    parser.add_argument("--variables", default=None, metavar="NAME,NAME",
                        help="keep only these result variables, e.g. npv,params "
                             "(default: all)")


@contextlib.contextmanager
def connect(address: str | None):
    """A dask client for ``--scheduler`` (None: no client)."""
    if address is None:
        yield None
        return
    from sibsim._optional import require

    distributed = require("distributed", purpose="--scheduler")
    if address == "local" or address.startswith("local:"):
        count = address.partition(":")[2]
        if count and not (count.isdigit() and int(count) > 0):
            raise ValueError(f"--scheduler: got {address!r}, expected 'local', 'local:N' "
                             "(N workers) or a scheduler address")
        workers = {"n_workers": int(count)} if count else {}
        with distributed.LocalCluster(threads_per_worker=1, dashboard_address=None,
                                      **workers) as cluster, distributed.Client(cluster) as client:
            yield client
        return
    try:
        _reachable(address)
        client = distributed.Client(address, timeout=30)
    except (OSError, TimeoutError, ValueError) as error:
        raise ValueError(f"--scheduler: cannot connect to {address!r} ({error})") from None
    try:
        yield client
    finally:
        client.close()


def _reachable(address: str) -> None:
    """Fail at once when nothing listens at a tcp:// address (the client would retry 30 s)."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme == "tcp" and parts.hostname and parts.port:
        socket.create_connection((parts.hostname, parts.port), timeout=10).close()


def _variables(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [name.strip() for name in text.split(",") if name.strip()]


def _resumed(store, scenario, args, variables) -> str:
    """A note on the chunks an earlier run already wrote into the store."""
    from sibsim.engine import chunks, memory, stream
    from sibsim.results.zarr_store import RunStore

    chunk = args.chunk_draws or memory.chunk_draws_for(scenario, args.draws,
                                                       resolution=args.resolution)
    chunk = min(chunk, args.draws)
    plan = chunks.plan_chunks(args.draws, chunk)
    settings = stream._settings(scenario, args.draws, args.seed, chunk, args.resolution,
                                chunks.check_variables(variables, function="sibsim run"))
    done = len(RunStore(store, settings, plan).done())
    return f"resuming: {done} of {len(plan)} chunks already written" if done else ""


def run(args) -> int:
    import sibsim
    from sibsim.results import check_output, write_netcdf

    scenario = sibsim.load_scenario(args.file)
    out = check_output(args.out)
    variables = _variables(args.variables)
    settings = {"draws": args.draws, "seed": args.seed, "resolution": args.resolution,
                "threads": args.threads, "chunk_draws": args.chunk_draws,
                "variables": variables}
    zarr = out.suffix.lower() == ".zarr"
    if zarr:
        note = _resumed(out, scenario, args, variables)
        if note:
            say(note)
    else:  # checked before a cluster is started
        sibsim.engine.chunks.check_variables(variables, function="sibsim run")
    with connect(args.scheduler) as client:
        if zarr:
            sibsim.simulate_to_zarr(scenario, out, client=client, **settings)
        else:
            result = sibsim.simulate(scenario, client=client, **settings)
            write_netcdf(result, out)
    say(f"wrote {out} ({args.draws} draws, seed {args.seed})")
    return 0
