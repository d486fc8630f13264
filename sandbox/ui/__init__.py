"""The live dashboard at /_sandbox/ui: one HTML page, plain JS and CSS shipped in the package.

The page holds no state and no logic of its own: it polls the control API and calls it for
every action, so the page, the CLI and the tests never disagree. Flask serves it (sandbox.app
mounts it beside the APIs).
"""

from __future__ import annotations

import flask

from ..mounts import DASHBOARD_MOUNT

blueprint = flask.Blueprint(
    "dashboard",
    __name__,
    url_prefix=DASHBOARD_MOUNT,
    static_folder="static",
    static_url_path="/static",
)


@blueprint.get("")
@blueprint.get("/")
def page():
    """The dashboard page (its script and style are under /_sandbox/ui/static/)."""
    response = blueprint.send_static_file("index.html")
    response.headers["Cache-Control"] = "no-cache"  # a new sandbox version must show at once
    return response


@blueprint.errorhandler(404)
def not_found(error):
    # the control API's own error shape, not Flask's HTML page
    body = {"error": {"status": 404, "message": f"no dashboard file at {flask.request.path}"}}
    return flask.jsonify(body), 404


def dashboard_app() -> flask.Flask:
    """The Flask app serving the dashboard: off the APIs' request path, where a framework's
    conveniences (static files, caching headers, error pages) cost nothing that matters."""
    app = flask.Flask(__name__)
    app.register_blueprint(blueprint)
    return app
