"""Options read from the environment: `serve --port` from DOMAINSANDBOX_PORT, and so on.

Generic over a parser's options, so an option added to `serve` gets its variable with no more
code: `--dns-port` is read from DOMAINSANDBOX_DNS_PORT. A flag given on the command line wins
over its variable; a variable wins over the option's default. A value the option would refuse
is refused naming the variable.
"""

from __future__ import annotations

import argparse
import os

PREFIX = "DOMAINSANDBOX_"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def variable(action: argparse.Action, prefix: str = PREFIX) -> str | None:
    """The environment variable of an option (None for --help and positionals): its own,
    where one was given it (`action.variable`), else named after it."""
    if named := getattr(action, "variable", None):
        return named
    longs = [o for o in action.option_strings if o.startswith("--")]
    if not longs or isinstance(action, argparse._HelpAction | argparse._VersionAction):
        return None
    return variable_of(longs[0], prefix)


def variable_of(option: str, prefix: str = PREFIX) -> str:
    """The environment variable of a long option: `--dns-port` -> DOMAINSANDBOX_DNS_PORT."""
    return prefix + option[2:].replace("-", "_").upper()


def _options(parser: argparse.ArgumentParser, prefix: str):
    for action in parser._actions:
        if name := variable(action, prefix):
            yield action, name


def from_environment(parser: argparse.ArgumentParser, prefix: str = PREFIX) -> argparse.Namespace:
    """A namespace holding the options set by environment variables, for parse_known_args to
    start from: argparse fills in defaults only for what a namespace does not hold yet, and a
    flag given replaces what it holds."""
    namespace = argparse.Namespace()
    for action, name in _options(parser, prefix):
        text = os.environ.get(name)
        if text is None:
            continue
        try:
            value = _value(parser, action, text)
        except (argparse.ArgumentError, argparse.ArgumentTypeError, ValueError) as exc:
            reason = getattr(exc, "message", None) or str(exc)
            refusal = f"${name}={text!r}: {reason}"
            if isinstance(action, argparse._AppendAction):  # appended to: refused at once
                parser.error(refusal)
            value = Refused(refusal)  # refused unless a flag given replaces it
        setattr(namespace, action.dest, value)
    return namespace


class Refused(str):
    """A variable's value its option refuses: an error once parsing is done, unless the
    option's flag was given (a flag given wins, even over a variable that is no value)."""


def refusals(parsed: argparse.Namespace) -> list[str]:
    """Why the variables left in `parsed` (no flag given in their place) were refused."""
    return [value for value in vars(parsed).values() if isinstance(value, Refused)]


def _value(parser: argparse.ArgumentParser, action: argparse.Action, text: str):
    if action.nargs == 0:  # a switch (--rate-limits): on or off
        word = text.strip().lower()
        if word not in _TRUE | _FALSE:
            raise ValueError("use 1/true/yes/on or 0/false/no/off")
        return action.const if word in _TRUE else action.default
    if isinstance(action, argparse._AppendAction):  # repeatable: comma-separated values
        return [_one(parser, action, part.strip()) for part in text.split(",") if part.strip()]
    return _one(parser, action, text)


def _one(parser: argparse.ArgumentParser, action: argparse.Action, text: str):
    value = parser._get_value(action, text)
    parser._check_value(action, value)
    return value


def flags_win(
    parser: argparse.ArgumentParser,
    parsed: argparse.Namespace,
    from_env: dict,
    prefix: str = PREFIX,
) -> None:
    """A repeatable option given on the command line replaces its variable's values, rather
    than adding to them. `from_env`: the namespace from_environment() made, as it was before
    parsing (argparse appends to a copy of what the namespace held)."""
    for action, _ in _options(parser, prefix):
        if isinstance(action, argparse._AppendAction) and action.dest in from_env:
            values, before = getattr(parsed, action.dest), from_env[action.dest]
            if values is not before:
                setattr(parsed, action.dest, values[len(before) :])


def epilog(parser: argparse.ArgumentParser, prefix: str = PREFIX) -> str:
    """The variables of a parser's options, for its --help."""
    rows = [(name, ", ".join(a.option_strings)) for a, name in _options(parser, prefix)]
    width = max((len(name) for name, _ in rows), default=0)
    lines = [f"  {name:<{width}}  {options}" for name, options in rows]
    return (
        "environment: every option can also be set by a variable (a flag given wins)\n"
        + "\n".join(lines)
    )
