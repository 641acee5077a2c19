"""Where the ``tradeoff`` command starts: Ctrl-C is handled from its first instruction.

The command's modules (click, numpy, pandas, the solver) take most of a second to import. A Ctrl-C
in that time ends the command as one during a solve does: "Interrupted." on stderr, exit 130, no
traceback. From the first line of ``main`` until the command's own handling takes over
(``take_over_interrupts``), SIGINT ends the process at once: nothing has been written yet, so
nothing can be left half done. Importing this module changes nothing. This module
imports only the standard library's ``os``, ``signal`` and ``sys``, so that its handler is in place
a few instructions after Python's own.
"""

import os
import signal
import sys

_INTERRUPTED = b"Interrupted.\n"
_EXIT_INTERRUPTED = 130


def _interrupted_while_starting(_signum: int, _frame: object) -> None:
    os.write(2, _INTERRUPTED)
    os._exit(_EXIT_INTERRUPTED)


def _handle_interrupts_while_starting() -> None:
    """Our start-up handler in place of Python's, unless the process set its own (we are embedded)."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _interrupted_while_starting)


def take_over_interrupts() -> None:
    """From here on, Ctrl-C raises ``KeyboardInterrupt``, which the command turns into exit 130 (after
    finishing a write, or stopping the solver): called where the command's own handling begins."""
    if signal.getsignal(signal.SIGINT) is _interrupted_while_starting:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def main() -> None:
    """The console script: imports the command, then runs it (``sys.exit`` with its code). From here on,
    stdout carries only the document asked for, even what a library prints as it is imported going to
    stderr (``optimizer.cli_streams``)."""
    _handle_interrupts_while_starting()
    from optimizer.cli_streams import stdout_for_documents_only  # the standard library's io and os only

    with stdout_for_documents_only():
        from optimizer.cli import main as command

        command(sys.argv[1:], started=take_over_interrupts)

