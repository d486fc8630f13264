"""YAML as the files people write for the sandbox are read (zone files here, scenarios in the
sandbox): with the safe loader, and every way the text can fail to be read said in one line;
and written so that reading it gives back the same data."""

from __future__ import annotations

from collections.abc import Hashable

import yaml

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"


class _Loader(yaml.SafeLoader):
    """The safe loader, an instant or a date written without quotes (`now: 2026-01-01T09:00:00Z`)
    kept as the text written: every instant here is ISO-8601 text, and a `datetime` read from
    it was refused as "not of type 'string'". So is a number in YAML 1.1's base 60: `10:00`
    was 600 (a TXT value served as "600")."""

    yaml_implicit_resolvers = {
        first: [(tag, pattern) for tag, pattern in resolvers if tag != _TIMESTAMP]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node, deep=False):
        """A mapping, whose keys are each written once: YAML and JSON both say so, and a key
        written twice (`seed: 1`, later `seed: 2`) was read as the last, without a word. A
        merge (`<<: *base`) may still be overridden."""
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key_node, _ in node.value:
                if key_node.tag == _MERGE:
                    continue
                key = self.construct_object(key_node, deep=True)
                if not isinstance(key, Hashable):  # refused as such by the loader itself
                    continue
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"the key {key!r} is written twice", key_node.start_mark
                    )
                seen.add(key)
        return super().construct_mapping(node, deep)


def _base_60_as_written(construct):
    def constructed(loader, node):
        return node.value if ":" in node.value else construct(loader, node)

    return constructed


for _tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
    _Loader.add_constructor(_tag, _base_60_as_written(_Loader.yaml_constructors[_tag]))


def read_yaml(text: str | bytes):
    """`text` parsed with YAML's safe loader; ValueError saying in one line why it cannot be
    read (where the parser stopped, not the four lines of its own report)."""
    try:
        return yaml.load(text, Loader=_Loader)  # a safe loader (above)
    except yaml.MarkedYAMLError as exc:
        raise ValueError(f"not valid YAML: {_said(exc)}") from None
    except yaml.reader.ReaderError as exc:  # where a person can find it, not a byte offset
        raise ValueError(f"not valid YAML: {_unreadable(exc, text)}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:  # bytes that are no text: on one line
        said = ", ".join(line.strip() for line in str(exc).splitlines())
        raise ValueError(f"not valid YAML: {said}") from None
    except RecursionError:
        raise ValueError("not valid YAML: nested too deeply to read") from None
    except ValueError as exc:  # an integer Python will not read
        if "4300 digits" in str(exc):
            raise ValueError("not valid YAML: a number of more than 4300 digits") from None
        raise ValueError(f"not valid YAML: {exc}") from None


def _said(exc: yaml.MarkedYAMLError) -> str:
    """ "line 4, column 1: expected ',' or ']', but got '<stream end>' (while parsing a flow
    sequence at line 2, column 8)"."""
    said = f"{_at(exc.problem_mark)}: {exc.problem}" if exc.problem_mark else str(exc.problem)
    if exc.context:
        said += f" ({exc.context}{' at ' + _at(exc.context_mark) if exc.context_mark else ''})"
    return said


def _unreadable(exc: yaml.reader.ReaderError, text: str | bytes) -> str:
    """ "line 3, column 6: byte 0xe9 is not UTF-8 (...)", where the reader says an offset: into
    the bytes where it could not decode them, else into the text."""
    if exc.encoding != "unicode":
        before = text[: exc.position].decode(exc.encoding, "replace")
        name = exc.encoding.upper()
        said = f"byte 0x{exc.character:02x} is not {name} ({exc.reason}); save the file as {name}"
    else:
        before = (text if isinstance(text, str) else text.decode("utf-8", "replace"))[
            : exc.position
        ]
        said = f"the character U+{exc.character:04X} may not be written in YAML ({exc.reason})"
    line, column = before.count("\n") + 1, len(before) - before.rfind("\n")
    return f"line {line}, column {column}: {said}"


def _at(mark) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}"


def write_yaml(data) -> str:
    """`data` as YAML text that read_yaml reads back the same: the safe dumper, keys in their
    order, text as it is."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)


class _Dumper(yaml.SafeDumper):
    """The safe dumper, writing a string that holds NEL (U+0085) double-quoted, where it is
    escaped: in another style it is written raw, and read back as a space."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = '"' if "\x85" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)
