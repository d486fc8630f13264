"""A server with the sandbox's layers stripped off, for bench/stack_floor.py.

    python bench/floor_server.py --layer connexion --port 8123 --answers answers.json

Every layer answers each request with the canned answer for its method and path (status,
headers and body from `--answers`, as the real sandbox answered the call; 404 for any other),
served by uvicorn configured as `serve` configures it (sandbox.server.uvicorn_config), with the
garbage collector set as `serve` sets it:

    uvicorn     a bare ASGI app: reads the body, sends the answer
    connexion   Connexion's middlewares as the sandbox builds them (routing, security and
                validation from the documents) and the dispatcher, over a world that only
                hands back the canned answer
    front       the sandbox's whole front end (build_asgi: limits, guards, the request log of
                refusals, then Connexion) over that same world; a request head sent
                again skips Connexion there (sandbox.verdicts), so this floor sits below the
                one before it

What a layer costs per request is the least any sandbox built on it can cost.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys

import uvicorn
from _common import ROOT  # noqa: F401  (puts the project on sys.path)

from sandbox import Sandbox
from sandbox.app import build_asgi, connexion_stack
from sandbox.request import Answer, send_answer
from sandbox.server import settle_gc, uvicorn_config
from sandbox.world import LocalWorld

LAYERS = ("uvicorn", "connexion", "front")


class CannedWorld(LocalWorld):
    """A world that serves each call its canned answer: no admission, handler or note."""

    def __init__(self, sandbox: Sandbox, answers: dict[str, Answer]):
        super().__init__(sandbox)
        self.answers = answers

    async def serve(self, call) -> Answer:
        return canned(self.answers, call.request.method, call.request.path)


def bare(answers: dict[str, Answer]):
    """The least an ASGI app can do: read the request, send the answer."""

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        await send_answer(send, canned(answers, scope["method"], scope["path"]))

    return app


def canned(answers: dict[str, Answer], method: str, path: str) -> Answer:
    """A copy of the answer to send (the front end adds headers to what it sends)."""
    answer = answers.get(f"{method} {path}", NOT_FOUND)
    return Answer(answer.status, answer.body, list(answer.headers))


NOT_FOUND = Answer(404)


def build(layer: str, sandbox: Sandbox, answers: dict[str, Answer]):
    if layer == "uvicorn":
        return bare(answers)
    world = CannedWorld(sandbox, answers)
    return connexion_stack(world) if layer == "connexion" else build_asgi(sandbox, world)


def load_answers(path: str) -> dict[str, Answer]:
    """The answers bench/stack_floor.py writes, by "METHOD path": status, headers, body
    (base64)."""
    with open(path, encoding="utf-8") as source:
        given = json.load(source)
    return {
        call: Answer(a["status"], base64.b64decode(a["body"]), [tuple(h) for h in a["headers"]])
        for call, a in given.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layer", choices=LAYERS, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--answers", required=True, help='the answers by "METHOD path" (JSON)')
    opts = parser.parse_args(argv)
    sandbox = Sandbox()
    config = uvicorn_config(build(opts.layer, sandbox, load_answers(opts.answers)), sandbox)
    config.host, config.port = "127.0.0.1", opts.port
    settle_gc()
    uvicorn.Server(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
