"""Every walkthrough in README.md and docs/*.md, run against a fresh sandbox, prints what it shows.

The convention the documents follow (docs/DEVELOPING.md, "Walkthroughs are tests"):

- A ```sh block is a step. The steps of one document run in order in one bash session, so
  variables, `export`s and files carry over, in a fresh directory (where `scenarios/` is the
  repository's), against one sandbox started for the document: `domainsandbox serve`, seed 1234.
- A step is a script: every command in it must succeed, and `# comments` are comments. Or it is
  a transcript, when its lines start with `$ `: each `$ ` line (with its `\\` continuations) is a
  command and the lines up to the next one are exactly what it prints; a command may fail there,
  and `$ echo $?` shows its status.
- The block right after a step (nothing but blank lines between), fenced ```json, ```text or
  bare ```, is what the whole step prints:
  - json: compared as JSON (several documents one after the other are compared in order): key
    order is free; an object with a `"...": "..."` member may hold keys the doc leaves out; a
    list whose last item is `"..."` may hold more items; a string with `...` in it matches any
    text in its place. Everything else is compared exactly: ids, tokens, records, statuses, and
    timestamps (walkthroughs that show them freeze the clock first).
  - text, and a transcript's lines: line by line, trailing spaces ignored; `...` in a line
    matches any text there, and a line that is only `...` matches any number of lines.
- `domainsandbox serve ...` (or `make serve`) is not run as printed: it (re)starts the
  document's sandbox with its own options (`--seed 4242`, `--scenario FILE`, `--state FILE`,
  ...) on the test's free ports, and what it prints up to "Press Ctrl-C to stop." is its output.
  `127.0.0.1:8080` and `-p 5353` in commands are rewritten to those ports, `$DOMAINSANDBOX_URL`
  points the CLI there, and the ports are written back as 8080 and 5353 in what is printed.
- A ```python block runs as a program (this virtualenv's python) at its place among the steps,
  against the same sandbox; one that defines `test_` functions runs under pytest, with the
  plugin's `domain_sandbox` fixture. An output block after it is what it prints.
- `<!-- not run: why -->` on the line before a block keeps it from running (installing, the
  whole test suite, a server that runs until Ctrl-C, a placeholder for the reader's own code).
  `<!-- file: NAME -->` before a block writes its text to NAME, for the steps after it.
- Other blocks (layouts, a YAML or JSON example not after a step) are illustrations.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = ["README.md"] + sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))

STEP_LANGUAGES = {"sh": "sh", "bash": "sh", "console": "sh", "python": "python"}
OUTPUT_LANGUAGES = {"json", "text", "plain", ""}
FENCE = re.compile(r"^```(\S*)\s*$")
MARK = re.compile(r"^<!--\s*(not run|file):\s*(.*?)\s*-->$")
SERVE_LINE = re.compile(r"^(?:domainsandbox\s+serve|make\s+serve)(?:\s|$)")
BANNER_END = "Press Ctrl-C to stop."
STEP_SECONDS = 120  # a guard against a step that never ends, not a measure of speed


@dataclass
class Block:
    document: str
    line: int  # of the opening fence
    language: str
    text: str
    mark: tuple[str, str] | None = None
    output: Block | None = None

    @property
    def where(self) -> str:
        return f"{self.document}, the {self.language or 'plain'} block at line {self.line}"


def blocks_of(document: str) -> list[Block]:
    """The fenced blocks of a document, each output block attached to the step before it."""
    lines = (ROOT / document).read_text().splitlines()
    blocks: list[Block] = []
    previous_end = None  # the closing fence of the last block
    mark = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if m := MARK.match(line.strip()):
            mark = (m[1], m[2])
        elif m := FENCE.match(line):
            start, body = i, []
            i += 1
            while i < len(lines) and lines[i].rstrip() != "```":
                body.append(lines[i])
                i += 1
            block = Block(document, start + 1, m[1], "\n".join(body) + "\n", mark)
            last = blocks[-1] if blocks else None
            right_after = previous_end is not None and all(
                not lines[j].strip() for j in range(previous_end + 1, start)
            )
            if (
                right_after
                and last is not None
                and last.language in STEP_LANGUAGES
                and last.output is None
                and block.language in OUTPUT_LANGUAGES
                and block.mark is None
            ):
                last.output = block
            else:
                blocks.append(block)
            previous_end, mark = i, None
        elif line.strip():
            mark = None
        i += 1
    return blocks


# -- comparing what a doc shows with what was printed ------------------------------------------


def _wildcard(pattern: str) -> str:
    """A regular expression for one shown line: `...` is any text."""
    return ".*".join(re.escape(part) for part in pattern.split("..."))


def text_difference(shown: str, printed: str) -> str | None:
    """None if `printed` is what `shown` shows; else the first difference, in words."""
    want = [line.rstrip() for line in shown.rstrip("\n").splitlines()]
    got = [line.rstrip() for line in printed.rstrip("\n").splitlines()]
    while want and not want[-1]:
        want.pop()
    while got and not got[-1]:
        got.pop()
    parts = [
        r"(?:[^\n]*\n)*?" if line.strip() == "..." else _wildcard(line) + r"\n" for line in want
    ]
    text = "".join(line + "\n" for line in got)
    if re.fullmatch("".join(parts), text):
        return None
    # the first shown line that cannot follow the ones before it
    for k in range(len(parts)):
        if not re.match("".join(parts[: k + 1]), text):
            matched = re.match("".join(parts[:k]), text)
            at = text[: matched.end()].count("\n") if matched else 0
            printed_line = got[at] if at < len(got) else "(nothing more)"
            return f"shown line {k + 1}:\n    {want[k]}\n  printed:\n    {printed_line}"
    matched = re.match("".join(parts), text)
    at = text[: matched.end()].count("\n")
    return f"after the last shown line the walkthrough printed more:\n    {got[at]}"


def json_documents(text: str) -> list:
    """The JSON documents in `text`, one after the other (whitespace between them is free)."""
    decoder, documents, at = json.JSONDecoder(), [], 0
    text = text.strip()
    while at < len(text):
        value, at = decoder.raw_decode(text, at)
        documents.append(value)
        while at < len(text) and text[at].isspace():
            at += 1
    return documents


def json_difference(shown, printed, path: str = "$") -> str | None:
    """None if `printed` matches `shown` (the rules in this module's docstring)."""
    if isinstance(shown, dict):
        if not isinstance(printed, dict):
            return f"at {path}: the doc shows an object, the sandbox printed {_short(printed)}"
        open_ended = "..." in shown
        for key, value in shown.items():
            if key == "...":
                continue
            if key not in printed:
                return f"at {path}: the sandbox printed no {json.dumps(key)}"
            if difference := json_difference(value, printed[key], f"{path}.{key}"):
                return difference
        extra = [key for key in printed if key not in shown]
        if extra and not open_ended:
            return (
                f"at {path}: the sandbox printed {json.dumps(extra[0])} too "
                f"({_short(printed[extra[0]])}), which the doc does not show"
            )
        return None
    if isinstance(shown, list):
        if not isinstance(printed, list):
            return f"at {path}: the doc shows a list, the sandbox printed {_short(printed)}"
        open_ended = bool(shown) and shown[-1] == "..."
        items = shown[:-1] if open_ended else shown
        if len(printed) < len(items) or (len(printed) > len(items) and not open_ended):
            return (
                f"at {path}: the doc shows {len(items)} items, the sandbox printed {len(printed)}"
            )
        for index, item in enumerate(items):
            if difference := json_difference(item, printed[index], f"{path}[{index}]"):
                return difference
        return None
    if isinstance(shown, str) and "..." in shown and isinstance(printed, str):
        if re.fullmatch(_wildcard(shown), printed, re.S):
            return None
    elif type(shown) is type(printed) and shown == printed:
        return None
    return f"at {path}: the doc shows {_short(shown)}, the sandbox printed {_short(printed)}"


def _short(value) -> str:
    text = json.dumps(value)
    return text if len(text) <= 200 else text[:200] + "..."


def output_difference(output: Block, printed: str) -> str | None:
    if output.language != "json":
        return text_difference(output.text, printed)
    try:
        printed_documents = json_documents(printed)
    except json.JSONDecodeError as error:
        return f"the doc shows JSON, the sandbox printed something else ({error})"
    shown_documents = json_documents(output.text)
    if len(shown_documents) != len(printed_documents):
        return (
            f"the doc shows {len(shown_documents)} JSON document(s), "
            f"the sandbox printed {len(printed_documents)}"
        )
    for index, (shown, got) in enumerate(zip(shown_documents, printed_documents, strict=True)):
        path = f"$[document {index + 1}]" if len(shown_documents) > 1 else "$"
        if difference := json_difference(shown, got, path):
            return difference
    return None


# -- running a document ------------------------------------------------------------------------


@dataclass
class Ran:
    output: str
    status: int
    failures: list[str] = field(default_factory=list)


class Session:
    """One bash session and the sandbox it drives, for one document."""

    PRELUDE = (
        "__ret() { return $1; }\n"
        '__failed() { printf "exit status %s at line %s: %s\\n" "$1" "$2" "$3" >> "$__FAILURES"; }\n'
    )

    def __init__(self, directory: Path):
        self.steps = directory / "steps"
        self.work = directory / "work"
        self.steps.mkdir()
        self.work.mkdir()
        (self.work / "scenarios").symlink_to(ROOT / "scenarios")
        self.count = 0
        self.port = self.dns_port = None
        self.served = False  # a serve line ran (or the default sandbox started)
        self.pid = None
        self.logs: list[Path] = []
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DOMAINSANDBOX_"))
        }
        env |= {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
            "PYTHONUNBUFFERED": "1",
            "DOMAINSANDBOX_URL": "http://127.0.0.1:1",  # nothing, until a sandbox runs
            "__FAILURES": str(self.steps / "failures"),
        }
        self.bash = subprocess.Popen(
            ["bash", "--norc", "--noprofile"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=self.work,
            env=env,
        )
        self._send(self.PRELUDE)

    # the bash session

    def _send(self, text: str) -> None:
        self.bash.stdin.write(text if text.endswith("\n") else text + "\n")
        self.bash.stdin.flush()

    def _read_marker(self, marker: str, what: str) -> str:
        deadline = time.monotonic() + STEP_SECONDS
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.bash.stdout], [], [], 1.0)
            if ready:
                line = self.bash.stdout.readline()
                if not line:
                    pytest.fail(f"{what}: the bash session ended")
                if line.startswith(marker):
                    return line[len(marker) :].strip()
        pytest.fail(
            f"{what} did not finish within {STEP_SECONDS} s (a command that runs until "
            "Ctrl-C? mark its block <!-- not run: why -->)"
        )

    def shell(self, script: str, *, must_succeed: bool, what: str) -> Ran:
        """Run `script` in the session (sourced, so variables carry over): output and status."""
        self.count += 1
        source = self.steps / f"{self.count:03}.sh"
        out = self.steps / f"{self.count:03}.out"
        failures = self.steps / "failures"
        failures.unlink(missing_ok=True)
        source.write_text(self.to_test_ports(script, what))
        trap = "trap '__failed $? $LINENO \"$BASH_COMMAND\"' ERR; " if must_succeed else ""
        self._send(
            f'{trap}source "{source}" > "{out}" 2>&1 < /dev/null; __s=$?; trap - ERR; '
            f'echo "__done__ $__s"; __ret $__s'
        )
        status = int(self._read_marker("__done__", what))
        found = failures.read_text().splitlines() if failures.exists() else []
        return Ran(self.from_test_ports(out.read_text(errors="replace")), status, found)

    # ports

    def to_test_ports(self, text: str, what: str) -> str:
        if self.port is None:
            if "127.0.0.1:8080" in text or "-p 5353" in text:
                pytest.fail(f"{what} reaches the sandbox before one was started")
            return text
        text = text.replace("127.0.0.1:8080", f"127.0.0.1:{self.port}")
        text = text.replace("localhost:8080", f"localhost:{self.port}")
        return re.sub(r"-p 5353\b", f"-p {self.dns_port}", text)

    def from_test_ports(self, text: str) -> str:
        if self.port is None:
            return text
        text = re.sub(rf":{self.port}\b", ":8080", text)
        text = re.sub(rf":{self.dns_port}\b", ":5353", text)
        return re.sub(rf"-p {self.dns_port}\b", "-p 5353", text)

    # the sandbox

    def serve(self, line: str, what: str) -> Ran:
        """(Re)start the document's sandbox as `line` asks, on the test's ports."""
        self.stop_sandbox(what)
        self.served = True
        if line.startswith("make"):
            found = re.search(r"ARGS=(\"[^\"]*\"|'[^']*'|\S+)", line)
            options = found[1].strip("\"'") if found else ""
        else:
            options = line.split(None, 2)[2] if len(line.split()) > 2 else ""
        options = re.sub(r"\s#.*$", "", " " + options)  # a trailing comment
        options = re.sub(r"\s&\s*$", "", options)  # started in the background
        options = re.sub(r"\s--(?:dns-)?port[= ]\S+", "", options)
        ports = f"--port {self.port or 0} --dns-port {self.dns_port or 0}"
        self.count += 1
        log = self.steps / f"{self.count:03}-serve.log"
        self.logs.append(log)
        self._send(
            f'domainsandbox serve {options.strip()} {ports} > "{log}" 2>&1 < /dev/null & '
            f'echo "__pid__ $!"'
        )
        pid = int(self._read_marker("__pid__", what))
        deadline = time.monotonic() + STEP_SECONDS
        while True:
            text = log.read_text(errors="replace") if log.exists() else ""
            if BANNER_END in text:
                banner = text[: text.index(BANNER_END) + len(BANNER_END)] + "\n"
                self.pid = pid
                self.port = self.port or int(re.search(r"control\s+http://\S+?:(\d+)/", banner)[1])
                self.dns_port = self.dns_port or int(re.search(r"DNS\s+\S+?:(\d+)", banner)[1])
                self._send(f"export DOMAINSANDBOX_URL=http://127.0.0.1:{self.port}; __ret 0")
                return Ran(self.from_test_ports(banner), 0)
            if not _alive(pid):
                self._send(f'wait {pid}; __s=$?; echo "__done__ $__s"; __ret $__s')
                status = int(self._read_marker("__done__", what))
                return Ran(self.from_test_ports(log.read_text(errors="replace")), status)
            if time.monotonic() > deadline:
                pytest.fail(f"{what}: `domainsandbox serve` printed no banner:\n{text}")
            time.sleep(0.05)

    def stop_sandbox(self, what: str) -> None:
        if self.pid is None:
            return
        pid, self.pid = self.pid, None
        os.kill(pid, signal.SIGTERM)
        self._send(f'wait {pid}; echo "__done__ $?"')
        status = int(self._read_marker("__done__", what))
        if status != 0:
            pytest.fail(f"{what}: the sandbox stopped with status {status}:\n{self.log_text()}")

    def log_text(self) -> str:
        return "".join(f"--- {log.name}\n{log.read_text(errors='replace')}" for log in self.logs)

    def close(self) -> None:
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
            deadline = time.monotonic() + 15
            while _alive(self.pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        self.bash.stdin.close()
        try:
            self.bash.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.bash.kill()
            self.bash.wait()


def _alive(pid: int) -> bool:
    """The process runs (not gone, not a zombie waiting for bash to read its status)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def transcript_commands(text: str) -> list[tuple[int, str, str]]:
    """A transcript's commands: (line offset, command, what it prints)."""
    commands: list[tuple[int, str, list[str]]] = []
    lines = text.rstrip("\n").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("$ "):
            offset, command = i, [line[2:]]
            while command[-1].endswith("\\") and i + 1 < len(lines):
                i += 1
                command.append(lines[i])
            commands.append((offset, "\n".join(command), []))
        elif commands:
            commands[-1][2].append(line)
        else:
            raise AssertionError(f"a transcript starts with `$ `, not {line!r}")
        i += 1
    return [(offset, command, "\n".join(out)) for offset, command, out in commands]


def script_chunks(text: str) -> list[tuple[int, str]]:
    """A script cut before and after its serve lines: (line offset, text)."""
    chunks: list[tuple[int, str]] = []
    current: list[str] = []
    start = 0
    for index, line in enumerate(text.rstrip("\n").split("\n")):
        if SERVE_LINE.match(line.strip()):
            if any(part.strip() for part in current):
                chunks.append((start, "\n".join(current) + "\n"))
            chunks.append((index, line.strip()))
            current, start = [], index + 1
        else:
            current.append(line)
    if any(part.strip() for part in current):
        chunks.append((start, "\n".join(current) + "\n"))
    return chunks


class Walkthrough:
    def __init__(self, document: str, directory: Path):
        self.document = document
        self.session = Session(directory)

    def run(self) -> None:
        blocks = [b for b in blocks_of(self.document) if b.language in STEP_LANGUAGES or b.mark]
        for block in blocks:
            if block.mark and block.mark[0] == "file":
                (self.session.work / block.mark[1]).write_text(block.text)
            elif block.mark:
                continue
            elif block.language == "python":
                self.python(block)
            elif any(line.startswith("$ ") for line in block.text.splitlines()):
                self.transcript(block)
            else:
                self.script(block)
        self.session.stop_sandbox(f"{self.document}, at its end")
        if "Traceback" in (logs := self.session.log_text()):
            pytest.fail(f"{self.document}: the sandbox logged a traceback:\n{logs}")

    def start_default(self, first_line: str) -> None:
        """The document's sandbox, unless the walkthrough starts one itself."""
        if not self.session.served and not SERVE_LINE.match(first_line.strip().removeprefix("$ ")):
            ran = self.session.serve("domainsandbox serve", f"{self.document}: the sandbox")
            assert ran.status == 0, ran.output

    def script(self, block: Block) -> None:
        printed = []
        for offset, chunk in script_chunks(block.text):
            self.start_default(chunk)
            what = f"{block.where}, line {block.line + 1 + offset}"
            if SERVE_LINE.match(chunk):
                ran = self.session.serve(chunk, what)
                if ran.status != 0:
                    pytest.fail(f"{what}: `{chunk}` exited with status {ran.status}:\n{ran.output}")
            else:
                ran = self.session.shell(chunk, must_succeed=True, what=what)
                if ran.failures:
                    pytest.fail(
                        f"{what}: a command failed, {ran.failures[0]}\n"
                        f"--- it printed:\n{ran.output}"
                    )
            printed.append(ran.output)
        self.compare(block, "".join(printed))

    def transcript(self, block: Block) -> None:
        for offset, command, shown in transcript_commands(block.text):
            self.start_default(command)
            what = f"{block.where}, the command at line {block.line + 1 + offset}"
            if SERVE_LINE.match(command):
                ran = self.session.serve(command, what)
                if ran.status != 0:
                    self.session._send(f"__ret {ran.status}")
            else:
                ran = self.session.shell(command + "\n", must_succeed=False, what=what)
            if difference := text_difference(shown, ran.output):
                pytest.fail(
                    f"{what} (`{command.splitlines()[0]}`) printed something else than shown.\n"
                    f"First difference, {difference}\n--- it printed:\n{_tail(ran.output)}"
                )

    def python(self, block: Block) -> None:
        self.start_default("")
        self.session.count += 1
        is_test = re.search(r"^def test_\w+\(", block.text, re.M) is not None
        name = f"test_{self.session.count:03}.py" if is_test else f"{self.session.count:03}.py"
        what = block.where
        program = self.session.steps / name
        program.write_text(self.session.to_test_ports(block.text, what))
        python = f'"{sys.executable}"'
        command = (
            f'{python} -m pytest -q -p no:cacheprovider "{program}"'
            if is_test
            else f'{python} "{program}"'
        )
        ran = self.session.shell(command, must_succeed=True, what=what)
        if ran.failures:
            pytest.fail(f"{what} failed:\n{_tail(ran.output)}")
        if not is_test:
            self.compare(block, ran.output)

    def compare(self, block: Block, printed: str) -> None:
        if block.output is None:
            return
        if difference := output_difference(block.output, printed):
            pytest.fail(
                f"{block.where} printed something else than the output shown at line "
                f"{block.output.line}.\nFirst difference, {difference}\n"
                f"--- it printed:\n{_tail(printed)}"
            )


def _tail(text: str, limit: int = 4000) -> str:
    return text if len(text) <= limit else "...\n" + text[-limit:]


@pytest.mark.timeout(600)
@pytest.mark.parametrize("document", DOCUMENTS)
def test_walkthrough_prints_what_the_document_shows(document, tmp_path):
    walkthrough = Walkthrough(document, tmp_path)
    try:
        walkthrough.run()
    finally:
        walkthrough.session.close()


def test_every_runnable_block_is_run_or_says_why_not():
    """A ```sh or ```python block runs, unless the line before it says why it does not."""
    for document in DOCUMENTS:
        for block in blocks_of(document):
            if block.mark and block.mark[0] == "not run":
                assert block.mark[1], f"{block.where}: say why it is not run"


def test_json_comparison_is_structural_with_open_objects_lists_and_strings():
    shown = {"id": "df24...", "data": {"a": 1, "...": "..."}, "list": [1, "..."]}
    assert (
        json_difference(shown, {"list": [1, 2], "data": {"b": 2, "a": 1}, "id": "df24c1"}) is None
    )
    assert "$.data.a" in json_difference(shown, {"id": "df24", "data": {"a": 2}, "list": [1]})
    assert '"x" too' in json_difference({"a": 1}, {"a": 1, "x": 2})
    assert 'no "a"' in json_difference({"a": 1}, {})
    assert "2 items" in json_difference([1, 2], [1, 2, 3])
    assert json_difference(1, True) is not None


def test_text_comparison_reads_dots_as_any_text_or_any_lines():
    assert text_difference("a ... c\n...\nz\n", "a b c\nx\ny\nz\n") is None
    assert text_difference("a\n...\n", "a\n") is None
    difference = text_difference("a\nb\nc\n", "a\nB\nc\n")
    assert difference.startswith("shown line 2:") and "B" in difference
    assert "more" in text_difference("a\n", "a\nb\n")
