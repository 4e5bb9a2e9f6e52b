"""``sibsim summarize RESULT``: the risk table of a saved result (netCDF or zarr)."""

from __future__ import annotations

from pathlib import Path

from sibsim.cli.common import say, write_text

NAME = "summarize"


def add_parser(sub) -> None:
    parser = sub.add_parser(
        NAME, help="print the risk table of a saved result (.nc or .zarr)",
        description="Print the risk table (sibsim.summarize) of a result written by "
                    "sibsim run: every party under every contract.")
    parser.add_argument("result", metavar="RESULT", help="a result file (.nc) or store (.zarr)")
    parser.add_argument("--csv", default=None, metavar="FILE",
                        help="also write the table as CSV to FILE (default: print only)")


def open_result(text: str):
    """A saved result, opened lazily; a ValueError naming it otherwise."""
    import xarray as xr

    path = Path(text)
    suffix = path.suffix.lower()
    if suffix not in (".nc", ".zarr") or not path.exists():
        raise ValueError(f"RESULT: got {text!r}, expected an existing result file (.nc) or "
                         "zarr store (.zarr) written by sibsim run")
    try:
        if suffix == ".zarr":
            from sibsim._optional import require

            require("zarr", purpose="reading a .zarr result")
            return xr.open_zarr(path)
        return xr.open_dataset(path, engine="h5netcdf")
    except (OSError, ValueError, KeyError) as error:
        raise ValueError(f"RESULT: cannot read {text!r} as a result ({error})") from None


def run(args) -> int:
    import sibsim
    from sibsim.analysis import format_summary

    if args.csv is not None:
        csv = Path(args.csv)
        if csv.suffix.lower() != ".csv" or csv.is_dir():
            raise ValueError(f"--csv: got {args.csv!r}, expected a file name ending in .csv")
        if not (csv.parent if str(csv.parent) else Path(".")).is_dir():
            raise ValueError(f"--csv: got {args.csv!r}, expected a file in an existing folder")
    with open_result(args.result) as result:
        table = sibsim.summarize(result)
        title = result.attrs.get("title", "").removeprefix("sibsim results: ")
        say(f"{title}: {result.attrs.get('draws', result.sizes.get('draw'))} draws, "
            f"seed {result.attrs.get('seed', '?')}")
    say(format_summary(table))
    if args.csv is not None:
        write_text(csv, table.to_csv(index=False))
        say(f"wrote {csv}")
    return 0
