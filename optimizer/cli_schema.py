"""``tradeoff schema``: the JSON Schemas of the scenario, plan and frontier documents."""

from __future__ import annotations

from pathlib import Path

import click

from optimizer.cli_support import EXIT_OK, OutputFile, debug_option, emit
from optimizer.schemas import KINDS, schema_text


@click.command("schema")
@click.argument("kind", type=click.Choice(KINDS))
@click.option("-o", "--output", type=OutputFile((".json",), dash_is_stdout=True),
              help="Write to this file (atomically) instead of stdout (`-o -`: stdout).")
@debug_option
def schema_command(kind: str, output: Path | None) -> int:
    """Print the JSON Schema of a scenario, a plan or a frontier (docs/embedding.md explains them).

    \b
    Examples:
      tradeoff schema scenario
      tradeoff schema plan -o plan.schema.json
      tradeoff schema frontier
    """
    emit(schema_text(kind), output)
    return EXIT_OK
