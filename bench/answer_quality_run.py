"""One set of `bench.answer_quality` in this process: ingest its knowledge base, evaluate each file, print JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.answer_quality import _evaluate
from bench.knowledge_common import django_setup


def main() -> None:
    cli = argparse.ArgumentParser()
    cli.add_argument("--files", nargs="+", required=True, help="split=path")
    cli.add_argument("--knowledge", nargs="+", required=True)
    cli.add_argument("--prefix", default="quality")
    args = cli.parse_args()
    django_setup(prefix=args.prefix)
    from django.core.management import call_command

    call_command("ingest", *args.knowledge, verbosity=0)
    figures = {}
    for item in args.files:
        split, path = item.split("=", 1)
        figures[split] = _evaluate(Path(path))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
