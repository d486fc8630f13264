"""DNS's bounds are written once, in fake_dns.limits; the documents that must hold them as
literal numbers (the control API's, the scenario schema) are held to those constants here."""

from __future__ import annotations

import re

from fake_dns.limits import MAX_LABEL, MAX_NAME, MAX_TXT_BYTES
from fake_dns.rdata import SUPPORTED_TYPES
from sandbox import documents, scenario


def control_schemas() -> dict:
    return documents.load(documents.CONTROL_DOCUMENT)["components"]["schemas"]


def test_the_control_api_s_dns_names_hold_dns_s_bounds():
    name = control_schemas()["DnsName"]
    assert name["maxLength"] == MAX_NAME + 1  # and the final dot a name may be written with
    assert set(re.findall(r"\{1,(\d+)\}", name["pattern"])) == {str(MAX_LABEL)}


def test_the_control_api_s_record_values_hold_fake_dns_s_cap():
    value = control_schemas()["NewRecord"]["properties"]["value"]["oneOf"]
    assert value[0]["maxLength"] == value[1]["items"]["maxLength"] == MAX_TXT_BYTES


def test_the_control_api_s_domain_names_and_ids_hold_dns_s_bound():
    spec = documents.load(documents.CONTROL_DOCUMENT)
    parameters = spec["components"]["parameters"]
    assert parameters["DomainId"]["schema"]["maxLength"] == MAX_NAME
    assert parameters["JournalDomain"]["schema"]["maxLength"] == MAX_NAME
    create = spec["paths"]["/domains"]["post"]["requestBody"]["content"]["application/json"]
    assert create["schema"]["properties"]["name"]["maxLength"] == MAX_NAME


def test_the_scenario_schema_holds_dns_s_bounds():
    definitions = scenario.schema()["definitions"]
    assert definitions["dnsName"]["maxLength"] == MAX_NAME + 1
    assert definitions["domain"]["properties"]["name"]["maxLength"] == MAX_NAME
    assert definitions["domain"]["properties"]["id"]["maxLength"] == MAX_NAME


def test_the_documents_record_types_are_fake_dns_s_in_any_letter_case():
    """The control API and scenario files take `txt` as the CLI and fake_dns do (a pattern,
    as an enum has no letter case), and no type fake_dns does not serve."""
    patterns = [
        control_schemas()["RecordType"]["pattern"],
        scenario.schema()["definitions"]["recordType"]["pattern"],
    ]
    for pattern in map(re.compile, patterns):
        for rtype in SUPPORTED_TYPES:
            assert all(pattern.search(t) for t in (rtype, rtype.lower(), rtype.title()))
        for other in ("SOA", "ANY", "TXT ", "AA", "", "TYPE16"):
            assert not pattern.search(other)
