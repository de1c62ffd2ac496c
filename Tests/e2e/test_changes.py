"""The tutorial's change creation from a template, with an API key, from plain `requests` and from
`curl` as separate processes."""

import json
import subprocess

import pytest

from conftest import REQUESTER_ID

# Template CHT 0011 of the demo install: one mandatory activity and four optional ones.
OPTIONAL_IN_TEMPLATE = {"OA 0078", "OA 0084", "OA 0145", "OA 0163"}
OA_0163_ID = "32916B7D-3890-45E6-82CA-43E0F3165969"


def change_request(description, optional=None):
    template = {"number": "CHT 0011"}
    if optional is not None:
        template["optionalActivities"] = optional
    return {"requester": {"id": REQUESTER_ID}, "briefDescription": description, "template": template}


def optional_activity_count(session, gateway, change):
    for key in (change["id"], change["number"]):  # by id and by number
        detail = session.get(gateway.url + f"/tas/api/operatorChanges/{key}", timeout=10)
        assert detail.status_code == 200, detail.text
        assert detail.json()["number"] == change["number"]
    return len([a for a in detail.json()["activities"] if a["optional"]])


@pytest.mark.parametrize("optional, expected", [
    (None, len(OPTIONAL_IN_TEMPLATE)),
    ([], 0),
    (["OA 0078", "OA 0145", OA_0163_ID], 3),
], ids=["template-default", "none", "by-number-and-id"])
def test_requests_creates_a_change_from_the_template(gateway, api_key, optional, expected):
    session = gateway.session(api_key=api_key)
    response = session.post(gateway.url + "/tas/api/operatorChanges",
                            json=change_request("New workplace for a colleague", optional), timeout=10)
    assert response.status_code == 201, response.text
    change = response.json()
    assert change["number"].startswith("CH ")
    assert change["briefDescription"] == "New workplace for a colleague"
    assert change["requester"]["id"].lower() == REQUESTER_ID.lower()
    assert change["changeType"] == "extensive"
    assert optional_activity_count(session, gateway, change) == expected


def test_curl_creates_a_change_with_an_api_key(gateway, api_key):
    body = json.dumps(change_request("Workplace via curl", ["OA 0084"]))
    result = subprocess.run(
        ["curl", "-sS", "--max-time", "10", "--cacert", gateway.ca_file, "-H", f"X-API-Key: {api_key}",
         "-H", "Content-Type: application/json", "--data-binary", body, "-w", "\n%{http_code}",
         gateway.url + "/tas/api/operatorChanges"],
        capture_output=True, text=True, timeout=20)
    assert result.returncode == 0, result.stderr
    text, status = result.stdout.rsplit("\n", 1)
    assert status == "201", text
    change = json.loads(text)
    assert change["number"].startswith("CH ")
    assert optional_activity_count(gateway.session(api_key=api_key), gateway, change) == 1


def test_unknown_optional_activity_is_refused_by_the_install(gateway, api_key):
    session = gateway.session(api_key=api_key)
    response = session.post(gateway.url + "/tas/api/operatorChanges",
                            json=change_request("Unknown activity", ["OA 9999"]), timeout=10)
    assert response.status_code in (400, 404)
    assert isinstance(response.json(), list) and response.json()[0]["message"]


def test_applicable_templates_list_through_the_gateway(gateway, app_creds):
    session = gateway.session(basic=app_creds)
    response = session.get(gateway.url + "/tas/api/applicableChangeTemplates", timeout=10)
    assert response.status_code == 200
    assert "CHT 0011" in [t["number"] for t in response.json()["results"]]
