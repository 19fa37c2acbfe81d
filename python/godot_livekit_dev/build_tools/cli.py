"""The declarations build.py is made of: subcommands, their options, and `main`.

An `Option` takes argparse's keywords and is forwarded, by default, to the tool the
subcommand runs (``--flag value``, or ``--flag`` alone for a switch); ``forward=False``
keeps it for the subcommand's own code (read it as ``call.args.<dest>``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .common import BuildError


def strip_separator(args: Sequence[str]) -> list[str]:
    """Drop a leading `--` that separates build.py options from passed-through ones."""
    args = list(args)
    return args[1:] if args[:1] == ["--"] else args


class Option:
    """One option of a subcommand: argparse keywords, and whether to forward it."""

    def __init__(self, flag: str, *, forward: bool = True, **argparse_kwargs: Any) -> None:
        self.flag = flag
        self.forward = forward
        self.argparse_kwargs = argparse_kwargs

    @property
    def dest(self) -> str:
        """The attribute name argparse stores the value under."""
        return str(self.argparse_kwargs.get("dest", self.flag.lstrip("-").replace("-", "_")))

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        """Declare the option on `parser`."""
        parser.add_argument(self.flag, **self.argparse_kwargs)

    def forwarded(self, args: argparse.Namespace) -> list[str]:
        """The option as the tool's command line receives it ([] when unset or not forwarded)."""
        value = getattr(args, self.dest, None)
        if not self.forward or value is None or value is False:
            return []
        return [self.flag] if value is True else [self.flag, str(value)]


@dataclass(frozen=True)
class Invocation:
    """What a subcommand handler gets: parsed options and the tool's command-line arguments."""

    args: argparse.Namespace
    forwarded: list[str]  # forwarded options, then the arguments after them (`--` dropped)


Handler = Callable[[Invocation], int]


@dataclass(frozen=True)
class Subcommand:
    """One build.py subcommand: its handler, help, options and pass-through arguments."""

    handler: Handler
    help: str | None  # None: hidden
    options: tuple[Option, ...] = field(default=())
    extra: str | None = None  # help of trailing arguments passed through unchanged
    passes_all_args: bool = False  # the whole rest of the command line goes to the tool

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        """Declare the options and pass-through arguments on the subcommand's parser."""
        for option in self.options:
            option.add_to(parser)
        if self.extra is not None:
            parser.add_argument("extra", nargs=argparse.REMAINDER, help=self.extra)

    def invocation(self, args: argparse.Namespace) -> Invocation:
        """The handler's input for parsed `args`."""
        forwarded = [part for option in self.options for part in option.forwarded(args)]
        return Invocation(args, forwarded + strip_separator(getattr(args, "extra", [])))


def build_parser(
    subcommands: Mapping[str, Subcommand], description: str
) -> argparse.ArgumentParser:
    """The top-level parser with one subparser per subcommand."""
    parser = argparse.ArgumentParser(prog="build.py", description=description)
    subparsers = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")
    for name, subcommand in subcommands.items():
        if subcommand.help is None:
            subcommand.add_to(subparsers.add_parser(name))
        else:
            subcommand.add_to(subparsers.add_parser(name, help=subcommand.help))
    return parser


def parse(
    subcommands: Mapping[str, Subcommand], argv: Sequence[str], description: str
) -> tuple[Subcommand, Invocation]:
    """The subcommand named by `argv` and its handler's input."""
    subcommand = subcommands.get(argv[0]) if argv else None
    if subcommand is not None and subcommand.passes_all_args:
        rest = strip_separator(argv[1:])
        return subcommand, Invocation(argparse.Namespace(subcommand=argv[0]), rest)
    args = build_parser(subcommands, description).parse_args(argv)
    subcommand = subcommands[args.subcommand]
    return subcommand, subcommand.invocation(args)


def main(
    subcommands: Mapping[str, Subcommand], description: str, argv: Sequence[str] | None = None
) -> int:
    """Parse the command line and run the subcommand; a BuildError exits 1 with its message."""
    subcommand, call = parse(subcommands, sys.argv[1:] if argv is None else argv, description)
    try:
        return subcommand.handler(call)
    except BuildError as error:
        print(f"[build] error: {error}", file=sys.stderr, flush=True)
        return 1
