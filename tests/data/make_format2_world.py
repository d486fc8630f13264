"""Drives a domainsandbox of scenario format 2 (commit a3cba0a; 7bead7a is the last of that
format) to make format2-world.yaml: see README.md beside this file.

    python tests/data/make_format2_world.py http://127.0.0.1:PORT OUT.yaml
"""

import sys

import httpx

RESEND_KEY = "re_format2_team"


def main(base: str, out: str) -> None:
    http = httpx.Client(base_url=base, timeout=10)

    def ok(response: httpx.Response) -> dict:
        assert response.is_success, (response.status_code, response.text)
        return response.json()

    ok(http.post("/_sandbox/clock", json={"set": "2026-01-05T09:00:00Z", "freeze": True}))
    resend = {"Authorization": f"Bearer {RESEND_KEY}"}
    ids = [
        ok(http.post("/resend/domains", headers=resend, json={"name": f"r{n}.example.com"}))["id"]
        for n in range(3)
    ]
    ok(http.delete(f"/resend/domains/{ids[1]}", headers=resend))  # deleted: r1
    print("deleted", ids[1])  # f8c4ae48-ab6f-4844-9ac7-14e993575973 (tests/test_upgrade.py)
    with open(out, "w") as file:
        file.write(http.get("/_sandbox/scenario").text)


if __name__ == "__main__":
    main(*sys.argv[1:])
