"""Screenshots of the HTML report for the docs: docs/_static/report-en.png and report-da.png.

Simulates the built-in scenario, writes the report in English and in Danish with
:func:`sibsim.write_report`, and photographs the top of each page with headless Chromium
(Debian's ``chromium``). The numbers shown are recomputed on every run, never copied.

    PYTHONPATH=src python scripts/report_screenshots.py [--draws 500] [--out docs/_static]

``--check`` only verifies that both images exist and are PNG files of the expected size
(a screenshot differs from run to run in its date line, so it is not compared byte for
byte).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The browser window: wide enough for the two-column contents, tall enough for the risk
#: table's first contract.
WIDTH, HEIGHT = 1000, 1400
PNG = b"\x89PNG\r\n\x1a\n"


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        sys.exit("report_screenshots: no chromium on PATH (apt-get install chromium)")
    return found


def shoot(page: Path, image: Path, profile: Path) -> None:
    """Photograph the top of an HTML page with headless Chromium."""
    command = [_chromium(), "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
               "--hide-scrollbars", "--host-resolver-rules=MAP * ~NOTFOUND",
               f"--user-data-dir={profile}", f"--window-size={WIDTH},{HEIGHT}",
               f"--screenshot={image}", page.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    if done.returncode != 0 or not image.is_file():
        sys.exit(f"report_screenshots: chromium failed on {page}:\n{done.stderr[-2000:]}")


def _size(image: Path) -> tuple[int, int]:
    data = image.read_bytes()
    if not data.startswith(PNG):
        raise ValueError(f"{image}: not a PNG file")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def check(out: Path) -> int:
    """Exit code 0 when both screenshots exist with the window's size."""
    problems = []
    for lang in ("en", "da"):
        image = out / f"report-{lang}.png"
        if not image.is_file():
            problems.append(f"{image} is missing")
        elif _size(image) != (WIDTH, HEIGHT):
            problems.append(f"{image} is {_size(image)}, expected {(WIDTH, HEIGHT)}")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=500, help="Monte Carlo draws")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "_static",
                        help="folder of the images")
    parser.add_argument("--check", action="store_true", help="only check the images")
    args = parser.parse_args(argv)
    if args.check:
        return check(args.out)
    import sibsim

    result = sibsim.simulate("danish-pilot", draws=args.draws, seed=args.seed, progress=False)
    with tempfile.TemporaryDirectory() as folder:
        for lang in ("en", "da"):
            page = sibsim.write_report(result, Path(folder) / f"report-{lang}.html", lang=lang)
            image = args.out / f"report-{lang}.png"
            shoot(page, image, Path(folder) / "profile")
            print(f"wrote {image}")
    return check(args.out)


if __name__ == "__main__":
    sys.exit(main())
