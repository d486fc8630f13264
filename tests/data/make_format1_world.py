"""Drives a domainsandbox of commit 7ab896f (the first with `serve --state`) to make
format1-world.db and format1-world.yaml: see README.md beside this file.

    python tests/data/make_format1_world.py http://127.0.0.1:PORT OUT.yaml
"""

import sys

import httpx

MONITE_CLIENT = "eb959578-a74d-4ac3-8b25-bf0910027857"
AUTOSEND_KEY, AUTOSEND_OTHER_KEY = "as_test_project_key", "as_other_project_key"
SCALEWAY_SECRET = "6f1c3a52-8d0e-4b7a-9c21-3e5f7a9b1d24"
SCALEWAY_PROJECT = "2d4f6a8c-1e3b-4d5f-8a7c-9e1b3d5f7a9c"
VORTEX_KEY = "VRTX.MTIzZTQ1NjctZTg5Yi0xMm.secretA1"
VORTEX_ACCOUNT = "123e4567-e89b-12d3-a456-426614174000"


def main(base: str, out: str) -> None:
    http = httpx.Client(base_url=base, timeout=10)

    def ok(response: httpx.Response) -> dict:
        assert response.is_success, (response.status_code, response.text)
        return response.json()

    ok(http.post("/_sandbox/clock", json={"set": "2026-01-05T09:00:00Z", "freeze": True}))
    monite = {"x-monite-version": "2024-05-25"}
    token = ok(
        http.post(
            "/monite/v1/auth/token",
            headers=monite,
            json={
                "client_id": MONITE_CLIENT,
                "client_secret": "s",
                "grant_type": "client_credentials",
            },
        )
    )["access_token"]
    monite["Authorization"] = f"Bearer {token}"
    ok(
        http.post(
            "/monite/v1/mailbox_domains", headers=monite, json={"domain": "monite.example.com"}
        )
    )
    for key, name in (
        (AUTOSEND_KEY, "autosend.example.com"),
        (AUTOSEND_OTHER_KEY, "other.example.com"),
    ):
        headers = {"Authorization": f"Bearer {key}"}
        ok(http.post("/autosend/v1/domains", headers=headers, json={"domain": name}))
    ok(
        http.post(
            "/scaleway/mailbox/v1alpha1/domains",
            headers={"X-Auth-Token": SCALEWAY_SECRET},
            json={"name": "scaleway.example.com", "project_id": SCALEWAY_PROJECT},
        )
    )
    ok(
        http.post(
            f"/vortex/api/v1/accounts/{VORTEX_ACCOUNT}/email-domains",
            headers={"x-api-key": VORTEX_KEY},
            json={"domain": "vortex.example.com"},
        )
    )
    with open(out, "w", encoding="utf-8") as file:
        file.write(http.get("/_sandbox/scenario").text)
    print(token)


if __name__ == "__main__":
    main(*sys.argv[1:])
