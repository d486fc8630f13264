"""What every provider offers a client, checked from its kit (sandbox/providers/kit.py) over real
HTTP: a new provider is covered here without editing this file."""

from __future__ import annotations

import json

import httpx
import pytest

from sandbox import documents
from sandbox.client import ControlError
from sandbox.driver import Driver, reach

from .helpers import PROVIDERS_BY_NAME, error_message

# Run again against `serve --workers 2` by `make test` (see tests/conftest.py).
pytestmark = pytest.mark.workers


@pytest.fixture
def http():
    with httpx.Client(timeout=30) as client:
        yield client


@pytest.mark.parametrize("name", PROVIDERS_BY_NAME)
def test_the_kits_situations_between_them_reach_every_state_word(http, urls, control, name):
    """Each situation of the kit is reached through the provider's own flows, and together
    they leave no state word of the client report unreached but those the kit says no
    client's step reaches."""
    control.clear_report()
    provider = PROVIDERS_BY_NAME[name]
    for n, situation in enumerate(provider.kit.states):
        driver = Driver(http, urls["server"], provider, owner=n)
        reach(driver, control, situation, f"s{n}.reached.example.com")
    report = control.report()["providers"][name]
    assert report["states_never_reached"] == list(provider.kit.unreachable)
    assert report["states_reached"]


@pytest.mark.parametrize("name", PROVIDERS_BY_NAME)
def test_a_created_domain_is_listed_and_read_back(http, urls, control, name):
    driver = Driver(http, urls["server"], PROVIDERS_BY_NAME[name])
    domain_id = driver.create("listed.example.com")
    assert domain_id in driver.list_ids()
    if driver.kit.get:
        answer = driver.call(driver.kit.get, domain_id)
        assert answer.status_code == 200
        assert driver.kit.status(answer.json()) == driver.kit.status(
            driver.call(driver.kit.get, domain_id).json()
        )
    assert [d["id"] for d in control.domains(name)] == [domain_id]


@pytest.mark.parametrize("name", [n for n, p in PROVIDERS_BY_NAME.items() if not p.kit.create.form])
def test_a_lone_surrogate_in_a_json_body_is_refused_and_nothing_is_stored(http, urls, name):
    """JSON can escape half a UTF-16 pair ("\\ud800"), which is no character: no answer or
    saved world holding it could be written, so it is refused where the body is read."""
    driver = Driver(http, urls["server"], PROVIDERS_BY_NAME[name])
    op = driver.kit.create
    text = json.dumps(op.body_for(name="half.example.com"))
    for broken in (text.replace("half.", "half\\ud800."), text.replace("{", '{"\\udc00":1,', 1)):
        answer = http.request(op.method, driver.base + op.at(), content=broken,
                              headers=driver.headers | {"content-type": "application/json"})  # fmt: skip
        assert 400 <= answer.status_code < 500, answer.text
        assert "surrogate" in error_message(name, answer), answer.text
    assert driver.list_ids() == []
    assert http.get(urls["control"] + "/requests").status_code == 200
    record = '{"name": "half.example.com", "type": "TXT", "value": "\\ud800"}'
    refused = http.post(urls["control"] + "/dns/records", content=record,
                        headers={"content-type": "application/json"})  # fmt: skip
    assert refused.status_code == 400
    assert "value: a lone UTF-16 surrogate" in error_message("control", refused)


@pytest.mark.parametrize("name", [n for n, p in PROVIDERS_BY_NAME.items() if not p.kit.create.form])
def test_a_json_body_python_cannot_read_is_refused_in_the_providers_shape(http, urls, name):
    """An integer of over 4,300 digits (Python's json refuses it with a ValueError, which was
    answered 500), and nesting past the recursion limit."""
    driver = Driver(http, urls["server"], PROVIDERS_BY_NAME[name])
    op = driver.kit.create
    text = json.dumps(op.body_for(name="huge.example.com"))
    for broken, said in (
        (text.replace("{", '{"n":1' + "0" * 4300 + ",", 1), "4300 digits"),
        (text.replace("{", '{"n":' + "[" * 100_000, 1), "nested too deeply"),
    ):
        answer = http.request(op.method, driver.base + op.at(), content=broken,
                              headers=driver.headers | {"content-type": "application/json"})  # fmt: skip
        assert 400 <= answer.status_code < 500, answer.text
        assert said in error_message(name, answer), answer.text
    for body in ('{"value": 1' + "0" * 4300 + "}", "[" * 100_000):
        refused = http.post(urls["control"] + "/clock", content=body,
                            headers={"content-type": "application/json"})  # fmt: skip
        assert refused.status_code == 400, refused.text
    scenario = http.post(urls["control"] + "/scenario", content="seed: 1" + "0" * 5000,
                         headers={"content-type": "application/yaml"})  # fmt: skip
    assert scenario.status_code == 400 and "4300 digits" in scenario.text
    deep = http.post(urls["control"] + "/scenario", content="x: " + "[" * 1000,
                     headers={"content-type": "application/yaml"})  # fmt: skip
    assert deep.status_code == 400 and "nested too deeply" in deep.text
    assert driver.list_ids() == []


@pytest.mark.parametrize("name", [n for n, p in PROVIDERS_BY_NAME.items() if not p.kit.create.form])
def test_an_integer_past_64_bits_is_answered_and_journaled_not_a_500(http, urls, name):
    """orjson writes no integer past 64 bits: an answer echoing one (Monite's 422), or the
    journal of a body sent chunked (Resend takes unknown fields), was a 500."""
    driver = Driver(http, urls["server"], PROVIDERS_BY_NAME[name])
    op = driver.kit.create
    body = op.body_for(name="wide.example.com")
    for sent in ({**body, "n": 2**64}, {**body, next(iter(body)): 2**64}):
        chunks = iter([json.dumps(sent).encode()])  # an iterator: sent chunked, no length
        answer = http.request(op.method, driver.base + op.at(), content=chunks,
                              headers=driver.headers | {"content-type": "application/json"})  # fmt: skip
        assert answer.status_code < 500, answer.text
        assert error_message(name, answer) if answer.status_code >= 400 else answer.json()
    journal = http.get(urls["control"] + "/requests", params={"provider": name})
    assert journal.status_code == 200
    assert str(2**64) in journal.text


@pytest.mark.parametrize("name", PROVIDERS_BY_NAME)
def test_another_clients_domain_is_refused_in_the_providers_own_shape(http, urls, control, name):
    """Another client's domain is refused: not found (Scaleway: permission denied, as it
    answers for another organization's resources)."""
    owner = Driver(http, urls["server"], PROVIDERS_BY_NAME[name], owner=1)
    domain_id = owner.create("theirs.example.com")
    driver = Driver(http, urls["server"], PROVIDERS_BY_NAME[name], owner=2)
    op = driver.kit.get or driver.kit.verify or driver.kit.delete
    answer = driver.call(op, domain_id)
    assert answer.status_code in (403, 404)
    assert error_message(name, answer), answer.text


@pytest.mark.parametrize("name", PROVIDERS_BY_NAME)
def test_a_call_without_a_credential_is_refused_in_the_providers_own_shape(urls, control, name):
    provider = PROVIDERS_BY_NAME[name]
    op = provider.kit.list
    answer = httpx.request(op.method, urls["server"] + provider.client_base + op.at(),
                           headers=provider.kit.headers)  # fmt: skip
    assert answer.status_code in (401, 403)
    assert error_message(name, answer), answer.text


@pytest.mark.parametrize("name", PROVIDERS_BY_NAME)
def test_a_trailing_slash_is_the_providers_404_not_a_redirect(http, urls, control, name):
    """`/domains/` (a domain id left empty) is not `/domains`: an SDK that followed a redirect
    there got the list where it asked for one domain."""
    driver = Driver(http, urls["server"], PROVIDERS_BY_NAME[name])
    driver.create("slash.example.com")
    op = driver.kit.list
    answer = http.request(op.method, driver.base + op.at() + "/", headers=driver.headers)
    assert answer.status_code == 404, (answer.status_code, answer.headers, answer.text)
    served = httpx.URL(driver.base + op.at()).path  # the report said a bare "Not Found"
    hint = f"did you mean {served}, without the final slash?"
    assert hint in (error_message(name, answer) or ""), answer.text  # Resend's, Scaleway's lost it
    reasons = [v["reason"] for v in control.report()["providers"][name]["violations"]]
    assert any(hint in r for r in reasons), reasons


@pytest.mark.parametrize(
    "name", [n for n, p in PROVIDERS_BY_NAME.items() if documents.common_start(p.document)]
)
def test_a_path_without_the_start_every_path_shares_is_told_the_path_meant(http, urls, name):
    """A base URL without the segments every path of the API begins with (Vortex's
    `/api/v1/accounts`, Scaleway's `/mailbox/v1alpha1`, SES's `/v2/email`): the path meant."""
    provider = PROVIDERS_BY_NAME[name]
    driver = Driver(http, urls["server"], provider)
    op = driver.kit.list
    meant = httpx.URL(driver.base + op.at()).path
    start = provider.mount + "/" + "/".join(documents.common_start(provider.document))
    asked = provider.mount + meant.removeprefix(start)
    answer = http.request(op.method, urls["server"] + asked, headers=driver.headers,
                          json=op.body)  # fmt: skip
    assert answer.status_code == 404, answer.text
    assert f"did you mean {meant}?" in (error_message(name, answer) or ""), answer.text


@pytest.mark.parametrize("name", PROVIDERS_BY_NAME)
def test_a_base_url_ending_in_a_slash_is_told_the_path_meant(http, urls, name):
    """An SDK given the base URL with a final slash joins `//domains`: Resend answered its
    fixed words alone, the others the path they do not serve."""
    driver = Driver(http, urls["server"], PROVIDERS_BY_NAME[name])
    op = driver.kit.list
    answer = http.request(op.method, driver.base + "/" + op.at(), headers=driver.headers,
                          json=op.body)  # fmt: skip
    assert answer.status_code == 404, answer.text
    meant = httpx.URL(driver.base + op.at()).path
    said = f"did you mean {meant}, with single slashes?"
    assert said in (error_message(name, answer) or ""), answer.text


@pytest.mark.parametrize("name", PROVIDERS_BY_NAME)
def test_an_empty_id_before_a_further_segment_is_told_the_path_with_its_placeholder(
    http, urls, name
):
    """`/domains//verify` is an id left empty, not a doubled slash (`/domains/verify` names a
    domain `verify`): asked with a method the path does not serve either, the 404 says the
    path meant, with its placeholder and its methods."""
    provider = PROVIDERS_BY_NAME[name]
    operations = documents.operations(provider.document)
    template = next(t for _, _, t in operations if "{" in t.rpartition("/")[0])
    methods = [m for _, m, t in operations if t == template]
    method = next(m for m in ("GET", "POST", "PUT", "DELETE", "PATCH") if m not in methods)
    parameter = template[template.index("{") : template.index("}") + 1]
    asked = template.replace(parameter, "", 1)
    driver = Driver(http, urls["server"], provider)
    answer = http.request(method, urls["server"] + provider.mount + asked,
                          headers=driver.headers)  # fmt: skip
    assert answer.status_code == 404, answer.text
    said = (error_message(name, answer) or "").partition(f"{parameter} is empty: did you mean ")
    assert said[2].endswith(f" {provider.mount}{template}?"), answer.text
    assert all(m in said[2] for m in methods), answer.text  # `PUT`, `GET or POST`


@pytest.mark.parametrize("name", PROVIDERS_BY_NAME)
def test_a_mount_in_another_case_is_told_where_the_api_is(http, urls, control, name):
    """`/Resend/domains`: the provider's 404 says where its API is, where its SDK reads a
    message (Resend's and Scaleway's said their fixed words alone)."""
    provider = PROVIDERS_BY_NAME[name]
    driver = Driver(http, urls["server"], provider)
    op = driver.kit.list
    cased = urls["server"] + provider.client_base.title() + op.at()  # /Resend, /Monite/V1
    answer = http.request(op.method, cased, headers=driver.headers, json=op.body)
    assert answer.status_code == 404, answer.text
    said = error_message(name, answer) or ""
    assert f"{name}'s API is under {provider.mount}" in said, answer.text
    meant = httpx.URL(driver.base + op.at()).path  # and the path meant, as a final slash says
    assert f"; did you mean {meant}?" in said, answer.text


@pytest.mark.parametrize("name", PROVIDERS_BY_NAME)
def test_a_path_without_the_providers_mount_is_told_the_path_meant(http, urls, control, name):
    """The sandbox's URL given to an SDK as its base, without the provider's mount (`/domains`
    for `/resend/domains`): the 404 says which path was meant, where the SDK reads a message.
    A path only one provider serves is that provider's 404, counted for it; one several serve
    (AutoSend's and Resend's `/domains`) names each."""
    driver = Driver(http, urls["server"], PROVIDERS_BY_NAME[name])
    op = driver.kit.list
    meant = httpx.URL(driver.base + op.at()).path
    answer = http.request(op.method, urls["server"] + op.at(), headers=driver.headers,
                          json=op.body)  # fmt: skip
    assert answer.status_code == 404, answer.text
    said = error_message(name, answer) or ""
    assert "did you mean " in said and meant in said.partition("did you mean ")[2], answer.text
    reasons = [v["reason"] for v in control.report()["providers"][name]["violations"]]
    ambiguous = "did you mean /autosend/v1/domains, /resend/domains or /_sandbox/domains?"
    assert ambiguous in said if name in ("autosend", "resend") else any(said in r for r in reasons)


@pytest.mark.parametrize(
    "name", [n for n, p in PROVIDERS_BY_NAME.items() if p.mount.count("/") > 1]
)
def test_a_path_with_the_mounts_version_but_not_its_name_is_told_the_path_meant(http, urls, name):
    """A base URL of the sandbox's address and the provider's version, without its name
    (`/v1/mailbox_domains` for `/monite/v1/mailbox_domains`): the path meant, in its shape."""
    driver = Driver(http, urls["server"], PROVIDERS_BY_NAME[name])
    op = driver.kit.list
    meant = httpx.URL(driver.base + op.at()).path
    version = "/" + PROVIDERS_BY_NAME[name].mount.rpartition("/")[2]
    answer = http.request(op.method, urls["server"] + version + op.at(), headers=driver.headers,
                          json=op.body)  # fmt: skip
    assert answer.status_code == 404, answer.text
    assert f"did you mean {meant}?" in (error_message(name, answer) or ""), answer.text


@pytest.mark.parametrize("name", PROVIDERS_BY_NAME)
@pytest.mark.parametrize(
    ("domain", "said"),
    [
        ("a" * 70 + ".example.com", "at most 63 characters a label"),
        # created as a domain, with records to publish under it: no top-level domain is all
        # digits (RFC 3696 2), and a real provider refuses an address
        ("192.168.0.1", "the last not all digits"),
    ],
    ids=["overlong label", "IP address"],
)
def test_a_name_that_is_no_host_name_is_refused_saying_so(http, urls, control, name, domain, said):
    """Refused in the provider's own shape, saying why in the sandbox's words where the
    provider has none of its own, and nothing created."""
    driver = Driver(http, urls["server"], PROVIDERS_BY_NAME[name])
    with control.expecting_errors():
        answer = driver.call(driver.kit.create, name=domain)
    assert answer.status_code in (400, 422), answer.text
    message = error_message(name, answer)
    assert message and "does not match" not in message, message  # no regex
    if name not in ("mailgun", "monite", "ses"):  # theirs say it in their own words
        assert said in message, message
    assert control.domains(name) == []
    assert driver.call(driver.kit.create, name="mail.192.example").status_code < 300


@pytest.mark.parametrize("name", PROVIDERS_BY_NAME)
def test_a_name_ending_in_a_newline_is_never_stored_with_it(http, urls, control, name):
    """Python's `$` matches before a final newline: Scaleway stored "nl.example.com\\n", with
    records to publish under it, and then created "nl.example.com" beside it."""
    driver = Driver(http, urls["server"], PROVIDERS_BY_NAME[name])
    with control.expecting_errors():
        first = driver.call(driver.kit.create, name="nl.example.com\n")
        second = driver.call(driver.kit.create, name="nl.example.com")
    assert first.status_code < 500 and second.status_code < 500, (first.text, second.text)
    assert [d["name"] for d in control.domains(name)] == ["nl.example.com"]


def test_a_control_api_record_named_with_a_final_newline_is_refused(control):
    """It was added under the name without the newline, and answered with no record."""
    with pytest.raises(ControlError, match=r"^400: name: 'nl.example.com\\n' is not a DNS name"):
        control.add_record("nl.example.com\n", "A", "192.0.2.7")
    assert control.records() == []


@pytest.mark.parametrize("name", PROVIDERS_BY_NAME)
def test_the_control_api_says_where_a_domain_stands_in_its_providers_words(
    http, urls, control, name
):
    """The same words the client report counts as states reached."""
    control.clear_report()
    driver = Driver(http, urls["server"], PROVIDERS_BY_NAME[name])
    assert driver.call(driver.kit.create, name="words.example.com").status_code < 300
    [domain] = control.domains(name)
    reached = control.report()["providers"][name]["states_reached"]
    assert domain["states"] and set(domain["states"]) <= set(reached), (domain["states"], reached)
