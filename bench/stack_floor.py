"""Where the sandbox's CPU per request goes, layer by layer, beside Stoplight Prism.

    python bench/stack_floor.py [--duration 3] [--rounds 3] [--concurrency 8]

For each provider, the list and create calls of bench/prism_compare.py, in interleaved rounds
against five servers: Prism mocking the provider's document; three floor servers
(bench/floor_server.py) that answer every request with the bytes the sandbox answered, through
uvicorn alone, then Connexion's middlewares and the dispatcher, then the sandbox's whole front
end; and `domainsandbox serve` itself. Prints the CPU each spent per request (from /proc).

A floor's CPU per request is the least that any sandbox built on that layer can spend, so
Prism's CPU over a floor's is the best ratio to Prism such a sandbox could reach: the ceiling
to compare with bench/prism_compare.py's targets (2x on lists, 1.5x on creates).
"""

from __future__ import annotations

import argparse
import base64
import json
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path

import httpx
from _common import (
    BENCH,
    ROOT,
    cpu_ms,
    figure,
    find_prism,
    free_port,
    interleaved,
    prism_mocking,
    ratio,
    run_load,
    serving,
    stop,
    table,
    wait_tcp_answer,
    warm_up,
)
from floor_server import LAYERS
from prism_compare import TARGET_RATIO
from recipes import each_prepared, send

CALLS = ("list", "create")
# Headers uvicorn adds to every answer itself: not part of the canned answer.
SERVER_HEADERS = {"date", "server", "content-length", "transfer-encoding"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measurement")
    parser.add_argument("--concurrency", type=int, default=8, help="connections")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    parser.add_argument("--warmup", type=float, default=4.0, help="most seconds of warm-up")
    opts = parser.parse_args(argv)

    prism, why = find_prism()
    sides = ["prism", *LAYERS, "sandbox"] if prism else [*LAYERS, "sandbox"]
    if prism is None:
        print(f"Prism not available ({why}): the floors alone")
    load = partial(run_load, concurrency=opts.concurrency, duration=opts.duration)

    rows = []
    with serving() as served, httpx.Client() as http, tempfile.TemporaryDirectory() as tmp:
        control = served.control()
        for cls, recipe, prepared in each_prepared(http, served, control, domains=3):
            answers = Path(tmp) / f"{cls.name}.json"
            answers.write_text(json.dumps(canned_answers(http, prepared)))
            with ExitStack() as servers:
                roots, spent = start_sides(servers, prism, cls, answers)
                roots["sandbox"] = prepared.base
                spent["sandbox"] = partial(cpu_ms, served.proc.pid)
                for op in CALLS:
                    call = recipe.ops[op]
                    urls = [prepared.url(op, roots[side]) for side in sides]
                    for url in urls:
                        warm_up(url, call.method, prepared.headers, call.body, opts.warmup)
                    run = partial(
                        load, method=call.method, headers=prepared.headers, body=call.body
                    )
                    measured = interleaved(run, urls, [spent[s] for s in sides], opts.rounds)
                    rows.append(report(cls.name, op, sides, measured))
        control.close()

    print(
        f"CPU per request (us), {opts.rounds} interleaved rounds of {opts.duration:g} s at "
        f"{opts.concurrency} connections, medians; 'best' is Prism's CPU over the floor's"
    )
    header = ["provider", "call", *sides]
    if prism:
        header += [f"best {layer}" for layer in LAYERS] + ["sandbox ratio"]
    table(rows, header + ["errors"])
    return 0


def start_sides(servers: ExitStack, prism: str | None, cls, answers: Path) -> tuple[dict, dict]:
    """Prism (if any) and the floor servers, entered into `servers`: for each, the root URL of
    the provider's API and a function giving the CPU milliseconds it has used so far."""
    roots, spent = {}, {}
    if prism:
        mock = servers.enter_context(prism_mocking(prism, ROOT / "openapi" / cls.document))
        roots["prism"], spent["prism"] = mock.url, mock.cpu_ms
    for layer in LAYERS:
        url, pid = servers.enter_context(floor_serving(layer, answers))
        roots[layer], spent[layer] = url + cls.client_base, partial(cpu_ms, pid)
    return roots, spent


def report(provider: str, op: str, sides: list[str], measured: list[dict]) -> list:
    """One row of the table; for run_all.py's summary, the Connexion floor's CPU per request
    and, beside Prism, the best ratio a sandbox on Connexion could reach (against the target)."""
    cpu = {side: m["cpu_us"] for side, m in zip(sides, measured, strict=True)}
    errors = "/".join(str(m["errors"]) for m in measured)
    name = f"{provider} {op}"
    figure("floor", f"{name}: Connexion floor, CPU per request", cpu["connexion"], "us")
    row = [provider, op, *(cpu[side] for side in sides)]
    if "prism" not in cpu:
        return row + [errors]
    best = {side: ratio(cpu["prism"], cpu[side]) for side in [*LAYERS, "sandbox"]}
    note = f"Prism {cpu['prism']:,.0f} us, floor {cpu['connexion']:,.0f} us"
    figure("floor", f"{name}: best ratio on Connexion", best["connexion"], "x",
           target=TARGET_RATIO[op], higher_is_better=True, note=note)  # fmt: skip
    return row + list(best.values()) + [errors]


def canned_answers(http: httpx.Client, prepared) -> dict:
    """The sandbox's own answer to each call, by "METHOD path", as floor_server.py reads them."""
    answers = {}
    for op in CALLS:
        answer = send(http, prepared, op)
        answer.raise_for_status()
        headers = [(k, v) for k, v in answer.headers.items() if k not in SERVER_HEADERS]
        body = base64.b64encode(answer.content).decode()
        answers[f"{answer.request.method} {answer.request.url.path}"] = {
            "status": answer.status_code,
            "headers": headers,
            "body": body,
        }
    return answers


@contextmanager
def floor_serving(layer: str, answers: Path):
    """bench/floor_server.py serving `layer` on a free port: yields (root URL, pid)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(BENCH / "floor_server.py"), "--layer", layer]
        + ["--port", str(port), "--answers", str(answers)],
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_tcp_answer(url + "/", time.monotonic() + 30):
            raise RuntimeError(f"the {layer} floor server did not start")
        yield url, proc.pid
    finally:
        stop(proc)


if __name__ == "__main__":
    sys.exit(main())
