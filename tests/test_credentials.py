"""Registered credentials: once a provider has any, it accepts only the registered ones that were
not revoked, and answers every other with its own 401. With none registered, any well-formed
credential works, as before. Registered credentials belong to the world: scenarios and state
files keep them, reset forgets them."""

from __future__ import annotations

import httpx
import pytest
from monite import Monite
from monite.errors import BadRequestError, UnauthorizedError
from scaleway import Client
from scaleway.mailbox.v1alpha1 import MailboxV1Alpha1API
from scaleway_core.api import ScalewayException

from sandbox.cli import main
from sandbox.client import ControlClient, ControlError

from .helpers import Served

# Run again against `serve --workers 2` by `make test` (see tests/conftest.py).
pytestmark = pytest.mark.workers

MONITE_VERSION = "2024-05-25"
MONITE_CLIENT = "eb959578-a74d-4ac3-8b25-bf0910027857"
MONITE_STRANGER = "0d4c3f5e-2b7a-4c1e-9f3a-6b8d2e1f4a5c"
AUTOSEND_KEY, AUTOSEND_STRANGER = "as_registered_key", "as_stranger_key"
SCALEWAY_KEY = "6f1c3a52-8d0e-4b7a-9c21-3e5f7a9b1d24"
SCALEWAY_STRANGER = "0b9e8d7c-6a5f-4e3d-8c2b-1a0f9e8d7c6b"
SCALEWAY_PROJECT = "2d4f6a8c-1e3b-4d5f-8a7c-9e1b3d5f7a9c"
VORTEX_KEY = "VRTX.MTIzZTQ1NjctZTg5Yi0xMm.secretA1"
VORTEX_STRANGER = "VRTX.OTg3NjU0MzItMTIzNC00NT.secretB2"
VORTEX_ACCOUNT = "123e4567-e89b-12d3-a456-426614174000"
AUTOSEND_401 = {"success": False, "error": {"message": "Unauthorized", "code": "UNAUTHORIZED"}}


def autosend_list(urls, key: str) -> httpx.Response:
    return httpx.get(f"{urls['autosend']}/domains", headers={"Authorization": f"Bearer {key}"})


def vortex_list(urls, key: str | None) -> httpx.Response:
    headers = {"x-api-key": key} if key else {}
    url = f"{urls['vortex']}/api/v1/accounts/{VORTEX_ACCOUNT}/email-domains"
    return httpx.get(url, headers=headers)


def scaleway(urls, secret: str) -> MailboxV1Alpha1API:
    client = Client(
        access_key="SCWXXXXXXXXXXXXXXXXX",
        secret_key=secret,
        default_project_id=SCALEWAY_PROJECT,
        api_url=urls["scaleway"],
    )
    return MailboxV1Alpha1API(client)


def monite_token(urls, client_id: str, secret: str) -> str:
    anonymous = Monite(monite_version=MONITE_VERSION, token="-", base_url=urls["monite"])
    return anonymous.access_tokens.create(
        client_id=client_id, client_secret=secret, grant_type="client_credentials"
    ).access_token


def monite(urls, token: str) -> Monite:
    return Monite(monite_version=MONITE_VERSION, token=token, base_url=urls["monite"])


# --- nothing registered: any well-formed credential, as before -------------------------------


def test_with_nothing_registered_every_well_formed_credential_is_accepted(urls, control):
    assert control.credentials() == []
    assert autosend_list(urls, AUTOSEND_STRANGER).status_code == 200
    assert vortex_list(urls, VORTEX_STRANGER).status_code == 200
    assert scaleway(urls, SCALEWAY_STRANGER).list_domains().total_count == 0
    token = monite_token(urls, MONITE_STRANGER, "any secret")
    assert monite(urls, token).mailbox_domains.get().data == []


def test_registering_one_providers_keys_leaves_the_others_open(urls, control):
    control.register_credential("autosend", AUTOSEND_KEY)
    assert autosend_list(urls, AUTOSEND_STRANGER).status_code == 401
    assert vortex_list(urls, VORTEX_STRANGER).status_code == 200
    assert scaleway(urls, SCALEWAY_STRANGER).list_domains().total_count == 0


# --- each provider's own 401 --------------------------------------------------------------------


def test_autosend_accepts_only_registered_unrevoked_keys(urls, control):
    control.register_credential("autosend", AUTOSEND_KEY)
    assert autosend_list(urls, AUTOSEND_KEY).status_code == 200
    stranger = autosend_list(urls, AUTOSEND_STRANGER)
    assert (stranger.status_code, stranger.json()) == (401, AUTOSEND_401)

    assert control.revoke_credential("autosend", AUTOSEND_KEY)["revoked"] is True
    revoked = autosend_list(urls, AUTOSEND_KEY)
    assert (revoked.status_code, revoked.json()) == (401, AUTOSEND_401)


def test_vortex_accepts_only_registered_unrevoked_keys_and_says_why(urls, control):
    control.register_credential("vortex", VORTEX_KEY)
    assert vortex_list(urls, VORTEX_KEY).status_code == 200
    stranger = vortex_list(urls, VORTEX_STRANGER)
    assert stranger.status_code == 401
    assert stranger.json() == {
        "error": "Invalid API key: the API key is not registered in the sandbox"
    }

    control.revoke_credential("vortex", VORTEX_KEY)
    revoked = vortex_list(urls, VORTEX_KEY)
    assert revoked.status_code == 401
    assert revoked.json() == {"error": "Invalid API key: the API key was revoked"}


def test_registered_vortex_keys_are_required_even_where_keys_were_made_optional(urls, control):
    control.settings("vortex", require_api_key=0)
    assert vortex_list(urls, None).status_code == 200
    control.register_credential("vortex", VORTEX_KEY)
    assert vortex_list(urls, None).json() == {"error": "Missing x-api-key header"}
    assert vortex_list(urls, VORTEX_KEY).status_code == 200


def test_scaleway_sdk_gets_denied_authentication_for_an_unknown_or_revoked_secret_key(
    urls, control
):
    control.register_credential("scaleway", SCALEWAY_KEY.upper())  # keys compare in any case
    assert scaleway(urls, SCALEWAY_KEY).list_domains().total_count == 0
    denied = {
        "type": "denied_authentication",
        "message": "authentication is denied",
        "method": "api_key",
        "reason": "not_found",
    }
    with pytest.raises(ScalewayException) as stranger:
        scaleway(urls, SCALEWAY_STRANGER).list_domains()
    assert stranger.value.status_code == 401 and stranger.value.response.json() == denied

    control.revoke_credential("scaleway", SCALEWAY_KEY)
    with pytest.raises(ScalewayException) as revoked:
        scaleway(urls, SCALEWAY_KEY).create_domain(name="revoked.example.com")
    assert revoked.value.status_code == 401 and revoked.value.response.json() == denied
    assert control.domains("scaleway") == []


def test_monite_sdk_gets_a_token_only_for_a_registered_client_id_and_its_secret(urls, control):
    control.register_credential("monite", MONITE_CLIENT, secret="the-secret")
    for client_id, secret in ((MONITE_STRANGER, "the-secret"), (MONITE_CLIENT, "wrong")):
        with pytest.raises(BadRequestError) as refused:  # the SDK's class for /auth/token's 400
            monite_token(urls, client_id, secret)
        assert refused.value.status_code == 400
        assert refused.value.body["error"]["message"].startswith("Invalid client credentials")
    token = monite_token(urls, MONITE_CLIENT.upper(), "the-secret")
    sdk = monite(urls, token)
    assert sdk.mailbox_domains.create(domain="mail.example.com").status == "waiting_to_be_verified"

    control.revoke_credential("monite", MONITE_CLIENT)
    with pytest.raises(UnauthorizedError) as revoked:  # its tokens stop working too
        sdk.mailbox_domains.get()
    assert revoked.value.body == {
        "error": {"message": "The access token is no longer valid: the client_id was revoked"}
    }
    with pytest.raises(BadRequestError) as refused:  # and it gets no new one
        monite_token(urls, MONITE_CLIENT, "the-secret")
    assert refused.value.status_code == 400


def test_registering_a_revoked_credential_again_restores_it(urls, control):
    control.register_credential("autosend", AUTOSEND_KEY)
    control.revoke_credential("autosend", AUTOSEND_KEY)
    assert autosend_list(urls, AUTOSEND_KEY).status_code == 401
    assert control.register_credential("autosend", AUTOSEND_KEY)["revoked"] is False
    assert autosend_list(urls, AUTOSEND_KEY).status_code == 200


def test_clearing_a_providers_credentials_opens_it_again(urls, control):
    control.register_credential("autosend", AUTOSEND_KEY)
    control.register_credential("vortex", VORTEX_KEY)
    assert control.clear_credentials("autosend") == 1
    assert autosend_list(urls, AUTOSEND_STRANGER).status_code == 200
    assert [c["provider"] for c in control.credentials()] == ["vortex"]
    assert vortex_list(urls, VORTEX_STRANGER).status_code == 401


# --- the control API says what it cannot register ---------------------------------------------


@pytest.mark.parametrize(
    ("provider", "key", "secret", "words"),
    [
        ("autosend", "sk_live_1", None, "AutoSend API keys look like as_"),
        ("autosend", AUTOSEND_KEY, "s", "autosend API keys have no secret"),
        ("vortex", "VRTX.short.secret", None, "Invalid UUID in API key"),
        ("scaleway", "not-a-uuid", None, "a Scaleway secret key is a UUID"),
        ("monite", MONITE_CLIENT, None, "registered with its client_secret"),
        ("monite", "client-1", "s", "a Monite client_id is a UUID"),
    ],
)
def test_a_credential_no_client_could_send_is_refused_with_the_reason(
    control, provider, key, secret, words
):
    with pytest.raises(ControlError) as refused:
        control.register_credential(provider, key, secret)
    assert refused.value.status == 400 and words in str(refused.value)
    assert control.credentials() == []


def test_revoking_a_credential_never_registered_is_404(control):
    with pytest.raises(ControlError) as refused:
        control.revoke_credential("autosend", AUTOSEND_KEY)
    assert refused.value.status == 404 and "as_registered_key" in str(refused.value)


# --- part of the world ----------------------------------------------------------------------------


def test_reset_forgets_registered_credentials(urls, control):
    control.register_credential("autosend", AUTOSEND_KEY)
    control.reset()
    assert control.credentials() == []
    assert autosend_list(urls, AUTOSEND_STRANGER).status_code == 200


def test_a_scenario_keeps_registered_and_revoked_credentials(urls, control):
    control.register_credential("monite", MONITE_CLIENT, secret="the-secret")
    control.register_credential("autosend", AUTOSEND_KEY)
    control.register_credential("autosend", AUTOSEND_STRANGER)
    control.revoke_credential("autosend", AUTOSEND_STRANGER)
    exported = control.export_scenario()
    assert "credentials:\n  monite:\n  - key: eb959578" in exported

    control.reset()
    control.load_scenario(exported)
    assert control.export_scenario() == exported
    assert autosend_list(urls, AUTOSEND_KEY).status_code == 200
    assert autosend_list(urls, AUTOSEND_STRANGER).status_code == 401
    assert [(c["key"], c["revoked"]) for c in control.credentials("autosend")] == [
        (AUTOSEND_KEY, False),
        (AUTOSEND_STRANGER, True),
    ]


def test_a_scenario_with_a_malformed_credential_changes_nothing(control):
    control.register_credential("autosend", AUTOSEND_KEY)
    before = control.export_scenario()
    bad = before.replace(f"key: {AUTOSEND_KEY}", "key: sk_not_autosend")
    with pytest.raises(ControlError) as refused:
        control.load_scenario(bad)
    assert "credentials.autosend[0]" in str(refused.value)
    assert control.export_scenario() == before


def test_registered_credentials_survive_a_restart_of_a_state_file(tmp_path):
    state = str(tmp_path / "world.db")
    served = Served("--state", state)
    try:
        control = served_control(served)
        control.register_credential("autosend", AUTOSEND_KEY)
        control.register_credential("autosend", AUTOSEND_STRANGER)
        control.revoke_credential("autosend", AUTOSEND_STRANGER)
    finally:
        assert served.stop()[0] == 0

    served = Served("--state", state)
    try:
        urls = served.urls
        assert autosend_list(urls, AUTOSEND_KEY).status_code == 200
        assert autosend_list(urls, AUTOSEND_STRANGER).status_code == 401
        assert autosend_list(urls, "as_never_registered").status_code == 401
    finally:
        assert served.stop()[0] == 0


def served_control(served: Served) -> ControlClient:
    return ControlClient(served.urls["control"].removesuffix("/_sandbox"))


# --- the CLI --------------------------------------------------------------------------------------


def test_cli_registers_lists_revokes_and_clears_credentials(urls, control, capsys):
    url = ["--url", urls["server"]]
    assert main(["credentials", "add", "monite", MONITE_CLIENT, "--secret", "s", *url]) == 0
    assert main(["credentials", "add", "autosend", AUTOSEND_KEY, *url]) == 0
    assert main(["credentials", "revoke", "autosend", AUTOSEND_KEY, *url]) == 0
    capsys.readouterr()
    assert main(["credentials", "ls", *url]) == 0
    listing = capsys.readouterr().out.splitlines()
    # the short columns first: STATE came after the key and secret, far off to the right
    assert listing == [
        f"PROVIDER  STATE    KEY{' ' * (len(MONITE_CLIENT) - 1)}SECRET",
        f"monite    active   {MONITE_CLIENT}  s",
        f"autosend  revoked  {AUTOSEND_KEY}",
    ]
    assert autosend_list(urls, AUTOSEND_KEY).status_code == 401

    # a KEY after clear was ignored, and every credential of the provider forgotten
    assert main(["credentials", "clear", "autosend", AUTOSEND_KEY, *url]) == 2
    assert "credentials revoke PROVIDER KEY" in capsys.readouterr().err
    assert len(control.credentials()) == 2
    assert main(["credentials", "clear", "autosend", *url]) == 0
    assert capsys.readouterr().out == "forgot 1 credential(s)\n"
    assert [c["provider"] for c in control.credentials()] == ["monite"]
    assert main(["credentials", "add", "autosend", "sk_live_1", *url]) == 2  # the sandbox said no
    assert "AutoSend API keys look like as_" in capsys.readouterr().err
