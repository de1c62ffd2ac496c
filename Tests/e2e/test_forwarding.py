"""What the gateway sends upstream, and the old install's pitfalls seen through it (plain
`requests` with an API key or an application password)."""

import pytest
import requests

from conftest import FIRST_INCIDENT, LATIN1_INCIDENT, OPERATOR_PASSWORD, basic_header, wait_until


def headers_of(last_request):
    """The forwarded header fields as (lower-case name -> list of values)."""
    fields = {}
    for field in last_request["headers"]:
        fields.setdefault(field["name"].lower(), []).append(field["value"])
    return fields


@pytest.mark.parametrize("scheme", ["x-api-key", "bearer", "basic"])
def test_upstream_sees_a_token_and_forwarding_headers_but_no_client_credential(gateway, simulator, scheme):
    credentials = gateway.credentials
    secret = {"x-api-key": credentials.api_key["secret"], "bearer": credentials.api_key["secret"],
              "basic": credentials.app_password["secret"]}[scheme]
    client_headers = {
        "x-api-key": {"X-API-Key": secret},
        "bearer": {"Authorization": "Bearer " + secret},
        "basic": {"Authorization": basic_header(credentials.app_login, secret)},
    }[scheme]
    client_headers.update({"X-Request-ID": "e2e-forwarding-1", "Cookie": "JSESSIONID=client-made-up",
                           "X-Forwarded-For": "203.0.113.9", "Connection": "keep-alive, X-Hop",
                           "X-Hop": "dropped"})
    response = requests.get(gateway.url + "/tas/api/incidents/number/I%201602%20001", headers=client_headers,
                            verify=gateway.ca_file, timeout=10)
    assert response.status_code == 200, response.text

    last = simulator.last_request()
    assert last["target"] == "/tas/api/incidents/number/I%201602%20001"
    fields = headers_of(last)
    authorization = fields["authorization"]
    assert len(authorization) == 1
    assert authorization[0].startswith('TOKEN id="') and authorization[0].endswith('"')
    assert "x-api-key" not in fields
    assert "cookie" not in fields
    assert "x-hop" not in fields
    assert fields["x-forwarded-for"] == ["127.0.0.1"]
    assert fields["x-forwarded-proto"] == ["https"]
    assert fields["x-forwarded-host"] == [f"127.0.0.1:{gateway.port}"]
    assert fields["x-request-id"] == ["e2e-forwarding-1"]
    assert fields["host"] == [f"127.0.0.1:{simulator.api_port}"]
    every_value = " ".join(field["value"] for field in last["headers"])
    assert secret not in every_value
    assert OPERATOR_PASSWORD not in every_value


def test_an_insane_request_id_is_replaced(gateway, simulator, api_key):
    session = gateway.session(api_key=api_key)
    response = session.get(gateway.url + "/tas/api/version", headers={"X-Request-ID": "bad id; rm -rf"},
                           timeout=10)
    assert response.status_code == 200
    [generated] = headers_of(simulator.last_request())["x-request-id"]
    assert len(generated) == 32 and all(c in "0123456789abcdef" for c in generated)
    # The gateway's own answers carry the id too.
    refused = requests.get(gateway.url + "/tas/api/version", headers={"X-Request-ID": "bad id"},
                           verify=gateway.ca_file, timeout=10)
    assert refused.status_code == 401
    assert refused.headers["X-Request-ID"] == refused.json()["requestId"] != "bad id"


def test_wrong_case_status_filter_is_rejected_by_the_install(gateway, api_key):
    session = gateway.session(api_key=api_key)
    wrong = session.get(gateway.url + "/tas/api/incidents?status=FirstLine", timeout=10)
    assert wrong.status_code == 400
    assert "FirstLine" in wrong.json()[0]["message"]
    right = session.get(gateway.url + "/tas/api/incidents?status=firstLine&page_size=5", timeout=10)
    assert right.status_code in (200, 206)
    assert all(incident["status"] == "firstLine" for incident in right.json())


def test_non_utf8_response_body_passes_byte_for_byte(gateway, simulator, api_key):
    path = "/tas/api/incidents/number/I%201605%20001"  # its request text goes out as ISO-8859-1
    direct = requests.get(simulator.url + path, headers={"Authorization": f'TOKEN id="{simulator.login()}"'},
                          timeout=10)
    assert direct.status_code in (200, 206)
    with pytest.raises(UnicodeDecodeError):
        direct.content.decode("utf-8")  # the install really sends Latin-1 bytes here

    through = gateway.session(api_key=api_key).get(gateway.url + path, timeout=10)
    assert through.status_code == direct.status_code
    assert through.content == direct.content
    assert through.headers["Content-Type"] == direct.headers["Content-Type"]
    assert LATIN1_INCIDENT.encode() in through.content
    assert "\u00fc".encode("latin-1") in through.content  # a Latin-1 u-umlaut, byte 0xFC


def test_percent_20_names_the_incident_and_plus_does_not(gateway, simulator, api_key):
    session = gateway.session(api_key=api_key)
    encoded = session.get(gateway.url + "/tas/api/incidents/number/I%201602%20001", timeout=10)
    assert encoded.status_code == 200
    assert encoded.json()["number"] == FIRST_INCIDENT
    lower = session.get(gateway.url + "/tas/api/incidents/number/i%201602%20001", timeout=10)
    assert lower.status_code == 200  # numbers match case-insensitively

    plus = session.get(gateway.url + "/tas/api/incidents/number/I+1602+001", timeout=10)
    assert plus.status_code == 404
    assert simulator.last_request()["target"] == "/tas/api/incidents/number/I+1602+001"

    # In a query, + is a space: order_by=creation_date+DESC and %2B both sort.
    for order in ("creation_date+DESC", "creation_date%2BDESC"):
        response = session.get(gateway.url + f"/tas/api/incidents?order_by={order}&page_size=3", timeout=10)
        assert response.status_code == 206
        assert simulator.last_request()["target"].endswith(f"order_by={order}&page_size=3")


def test_logout_through_the_gateway_leaves_the_pooled_token_alive(gateway, simulator, api_key):
    session = gateway.session(api_key=api_key)
    assert session.get(gateway.url + "/tas/api/version", timeout=10).status_code == 200
    before = simulator.stats()

    response = session.get(gateway.url + "/tas/api/logout", timeout=10)
    assert response.status_code == 200

    after_logout = simulator.stats()
    assert after_logout["logouts"] == before["logouts"]
    assert after_logout["requests"] == before["requests"], "the logout reached the install"
    # The next request rides the same token: no new login, no rejected token.
    assert session.get(gateway.url + "/tas/api/incidents/number/I%201602%20001", timeout=10).status_code == 200
    after = simulator.stats()
    assert after["logins"] == before["logins"]
    assert after["activeTokens"] == before["activeTokens"]


@pytest.mark.parametrize("kind", ["operator", "person"])
def test_token_login_through_the_gateway_is_answered_by_the_gateway(gateway, simulator, api_key, kind):
    session = gateway.session(api_key=api_key)
    assert session.get(gateway.url + "/tas/api/version", timeout=10).status_code == 200
    before = simulator.stats()

    response = session.get(gateway.url + f"/tas/api/login/{kind}", timeout=10)
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/json")
    assert "credential" in response.json()["detail"]
    # An old client sending the install's own password gets the same guidance, and no token.
    old_style = requests.get(gateway.url + f"/tas/api/login/{kind}", auth=("api.operator", OPERATOR_PASSWORD),
                             verify=gateway.ca_file, timeout=10)
    assert old_style.status_code == 400
    assert "credential" in old_style.json()["detail"]

    after = simulator.stats()
    assert after["requests"] == before["requests"], "the login reached the install"
    assert after["logins"] == before["logins"]
    assert after["loginFailures"] == before["loginFailures"]


def test_no_credential_is_refused_without_reaching_the_install(gateway, simulator):
    before = simulator.stats()["requests"]
    response = requests.get(gateway.url + "/tas/api/incidents", verify=gateway.ca_file, timeout=10)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert response.json()["error"] == "unauthorized"
    assert simulator.stats()["requests"] == before


def test_a_get_with_a_json_null_body_is_forwarded_whole(gateway, simulator, api_key):
    """The topdesk library sends `null` as the body of every GET."""
    session = gateway.session(api_key=api_key)
    response = session.get(gateway.url + "/tas/api/incidents/number/I%201602%20001", data="null",
                           headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 200
    last = simulator.last_request()
    assert last["bodyBytes"] == 4
    assert headers_of(last)["content-length"] == ["4"]


def test_upstream_paging_links_and_cookies_do_not_leak(gateway, api_key):
    session = gateway.session(api_key=api_key)
    response = session.get(gateway.url + "/tas/api/incidents?page_size=2", timeout=10)
    assert response.status_code == 206
    assert "Set-Cookie" not in response.headers
    incident = response.json()[0]
    assert incident["action"].startswith("/tas/api/incidents/id/")


def test_the_gateway_log_never_holds_a_secret_or_a_token(gateway, simulator):
    token_values = set()
    for line in gateway.log.snapshot():
        assert OPERATOR_PASSWORD not in line
        assert gateway.credentials.api_key["secret"] not in line
        assert gateway.credentials.app_password["secret"] not in line
    # A token the install handed out looks like a UUID; none may appear in the log.
    last = simulator.last_request()
    for field in last["headers"]:
        if field["name"].lower() == "authorization":
            token_values.add(field["value"].split('"')[1])
    assert token_values
    for line in gateway.log.snapshot():
        for token in token_values:
            assert token not in line
    access = [r for r in gateway.log.json_lines() if "status" in r and "method" in r]
    assert access, "no access log line was written"


def test_a_redirect_to_the_web_login_passes_through_unfollowed(gateway, api_key):
    session = gateway.session(api_key=api_key)
    response = session.get(gateway.url + "/tas/secure/incident", allow_redirects=False, timeout=10)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/tas/")
    assert "Set-Cookie" not in response.headers


def test_each_request_gets_one_access_log_line_naming_client_and_account(gateway, api_key):
    session = gateway.session(api_key=api_key)
    response = session.get(gateway.url + "/tas/api/incidents/number/I%201602%20001",
                           headers={"X-Request-ID": "e2e-access-log-1"}, timeout=10)
    assert response.status_code == 200

    def line():
        return [r for r in gateway.log.json_lines() if r.get("requestId") == "e2e-access-log-1"]

    [record] = wait_until(line, 5, what="the access log line")
    assert record["client"] == "e2e-api-key"
    assert record["account"] == "ops"
    assert record["method"] == "GET"
    assert record["status"] == 200
    assert record["bytes"] == len(response.content)
    assert "I%201602%20001" in record["path"]
