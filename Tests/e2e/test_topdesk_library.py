"""The `topdesk` client library (PyPI, 0.0.17) with application passwords through the gateway.

The library sends `auth=(login, password)` (HTTP Basic) on every call, a JSON `null` body even on
GET, and hand-made multipart uploads (LF line endings, base64 content with a
`Content-Transfer-Encoding` header). It raises on any non-ok status and returns None for an empty
body (204).
"""

import base64

import pytest
from topdesk import Topdesk, errors

from conftest import CALLER_ID, FIRST_INCIDENT


@pytest.fixture
def client(gateway, app_creds):
    return Topdesk(url=gateway.url, app_creds=app_creds, verify=gateway.ca_file)


def test_lists_every_incident_page_by_page(client, gateway, api_key):
    seen = []
    start = 0
    while True:
        page = client.incidents({"start": start, "page_size": 10})
        if page is None:  # 204: nothing at this offset
            break
        assert 1 <= len(page) <= 10
        seen.extend(incident["number"] for incident in page)
        start += 10
        assert start < 1000, "paging never ended"
    assert len(seen) == len(set(seen)), "a page repeated incidents"
    assert FIRST_INCIDENT in seen

    # The statuses behind the library's pages: 206 while more follow, 200 on the last, 204 after.
    session = gateway.session(api_key=api_key)
    statuses = []
    for offset in range(0, start + 10, 10):
        response = session.get(gateway.url + "/tas/api/incidents", params={"start": offset, "page_size": 10},
                               timeout=10)
        statuses.append(response.status_code)
    last_full = len(seen) // 10 if len(seen) % 10 else len(seen) // 10 - 1
    assert statuses[:last_full] == [206] * last_full
    assert statuses[last_full] == 200
    assert statuses[last_full + 1:] == [204] * (len(statuses) - last_full - 1)


def test_fetches_an_incident_by_number(client):
    incident = client.incident(FIRST_INCIDENT)
    assert incident["number"] == FIRST_INCIDENT
    # Links to the children point at the gateway's paths (the install serves them at its root).
    assert incident["requests"].startswith("/tas/api/incidents/id/")


def test_unknown_incident_raises_not_found(client):
    with pytest.raises(errors.NotFound):
        client.incident("I 9999 999")


def test_creates_and_updates_an_incident(client):
    created = client.create_incident({"callerLookup": {"id": CALLER_ID},
                                      "briefDescription": "Printer on floor 3 is jammed"})
    number = created["number"]
    assert number.startswith("I ")
    assert created["briefDescription"] == "Printer on floor 3 is jammed"

    updated = client.update_incident(number, {"briefDescription": "Error 42"})
    assert updated["number"] == number
    assert updated["briefDescription"] == "Error 42"
    assert client.incident(number)["briefDescription"] == "Error 42"
    assert client.incident(created["id"])["briefDescription"] == "Error 42"


def test_create_with_an_unknown_caller_raises_not_found(client):
    with pytest.raises(errors.NotFound):
        client.create_incident({"callerLookup": {"id": "00000000-0000-4000-a000-000000000000"},
                                "briefDescription": "nobody called"})


def test_uploads_an_attachment_the_gateway_forwards_byte_for_byte(client, gateway, simulator, api_key):
    created = client.create_incident({"callerLookup": {"id": CALLER_ID}, "briefDescription": "With a note"})
    number = created["number"]

    uploaded = client.upload_incident_attachment(number, ("note.txt", "hello"))
    assert uploaded["fileName"] == "note.txt"

    # What the library put on the wire, rebuilt the way it builds it, against what arrived.
    sent = ('--BOUNDARY\nContent-Disposition: form-data; name="file"; filename="note.txt"\n'
            "Content-Type: application/plain;charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
            f"{base64.b64encode(b'hello').decode()}\n--BOUNDARY--").encode()
    last = simulator.last_request()
    assert last["method"] == "POST"
    assert last["target"] == "/tas/api/incidents/number/" + number.replace(" ", "%20") + "/attachments"
    assert last["bodyBytes"] == len(sent)
    headers = {h["name"].lower(): h["value"] for h in last["headers"]}
    assert headers["content-type"] == "multipart/form-data;boundary=BOUNDARY"
    assert headers["content-length"] == str(len(sent))

    # The install decodes the base64 part: the stored file is the five bytes the caller meant.
    assert uploaded["size"] == len(b"hello")
    listed = client.incident_attachments(number)
    assert [a["fileName"] for a in listed] == ["note.txt"]
    session = gateway.session(api_key=api_key)
    download = session.get(gateway.url + uploaded["downloadUrl"], timeout=10)
    assert download.status_code == 200
    assert download.content == b"hello"


def test_raw_multipart_upload_round_trips_binary_bytes(gateway, api_key):
    """A standard (CRLF) multipart upload from requests itself: every byte value survives."""
    session = gateway.session(api_key=api_key)
    payload = bytes(range(256)) * 64
    response = session.post(gateway.url + "/tas/api/incidents/number/I%201602%20001/attachments",
                            files={"file": ("blob.bin", payload, "application/octet-stream")},
                            data={"description": "all byte values"}, timeout=10)
    assert response.status_code == 200, response.text
    attachment = response.json()
    assert attachment["size"] == len(payload)
    assert attachment["description"] == "all byte values"
    download = session.get(gateway.url + attachment["downloadUrl"], timeout=10)
    assert download.content == payload
    assert download.headers["Content-Type"] == "application/octet-stream"


def test_library_token_login_through_the_gateway_is_refused_with_guidance(gateway, app_creds):
    """The library's own login_operator() must not reach the install: the gateway holds the
    account's password, a client's credential is not a TOPdesk login."""
    client = Topdesk(url=gateway.url, verify=gateway.ca_file)
    with pytest.raises(errors.HttpException) as raised:
        client.login_operator(*app_creds)
    assert raised.value.status_code in (400, 404)
    assert "credential" in raised.value.response.json()["detail"]


def test_wrong_application_password_raises_unauthorized(gateway, app_creds):
    client = Topdesk(url=gateway.url, app_creds=(app_creds[0], app_creds[1] + "x"), verify=gateway.ca_file)
    with pytest.raises(errors.Unauthorized):
        client.incident(FIRST_INCIDENT)
    client = Topdesk(url=gateway.url, app_creds=app_creds, verify=gateway.ca_file)
    assert client.incident(FIRST_INCIDENT)["number"] == FIRST_INCIDENT


def test_library_logout_is_a_no_op_that_keeps_the_pooled_token(client, simulator):
    assert client.incident(FIRST_INCIDENT)["number"] == FIRST_INCIDENT
    before = simulator.stats()
    assert client.logout() is None  # 200 with an empty body
    assert client.incident(FIRST_INCIDENT)["number"] == FIRST_INCIDENT  # app_creds still go out
    after = simulator.stats()
    assert after["logouts"] == before["logouts"]
    assert after["logins"] == before["logins"]


def test_library_oversized_page_raises_bad_request(client):
    with pytest.raises(errors.BadRequest):
        client.incidents({"page_size": 101})
    assert len(client.incidents({"page_size": 100})) <= 100
