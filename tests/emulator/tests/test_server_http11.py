"""HTTP/1.1 on the wire, with raw TLS sockets (no client library smoothing things over): chunked
request bodies, keep-alive, pipelining, Expect: 100-continue, HEAD, methods, odd paths, many connections."""
import json
import socket
import ssl
import threading
from urllib.parse import urlsplit

from conftest import API

PROD = "acme-prod"


class Wire:
    """One TLS connection; reads HTTP/1.1 responses framed by Content-Length (what the emulator sends)."""

    def __init__(self, emulator, timeout=20):
        parsed = urlsplit(emulator.base_url)
        context = ssl.create_default_context(cafile=emulator.ca_file)
        raw = socket.create_connection((parsed.hostname, parsed.port), timeout=timeout)
        self.sock = context.wrap_socket(raw, server_hostname=parsed.hostname)
        self.buffer = b""

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode("latin-1"))

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed by the server")
        self.buffer += chunk

    def response(self, head=False):
        """(status, headers dict lower-case, body bytes) of the next response on the connection."""
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        raw_head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = raw_head.decode("latin-1").split("\r\n")
        version, status = lines[0].split(" ")[:2]
        assert version == "HTTP/1.1", lines[0]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = 0 if head or int(status) < 200 else int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            self._fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return int(status), headers, body

    def closed_by_server(self):
        try:
            return self.sock.recv(1) == b""
        except (ConnectionError, ssl.SSLError):
            return True

    def close(self):
        self.sock.close()


def _get(path, token, extra=""):
    return ("GET %s HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\n%s\r\n" % (path, token, extra))


def _password_form(emulator):
    admin = emulator.org(PROD)["admin"]
    return ("grant_type=password&client_id=%s&client_secret=%s&username=%s&password=%s"
            % (admin["client_id"], admin["client_secret"], admin["username"],
               admin["password"] + admin["security_token"])).encode()


def test_chunked_token_request_is_read_and_connection_stays_usable(emulator):
    # jsforce (and so `sf org login jwt`) posts its token requests this way, with no Content-Length.
    form = _password_form(emulator)
    wire = Wire(emulator)
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (form[:20], form[20:]))
    wire.send(b"POST /services/oauth2/token HTTP/1.1\r\nHost: localhost\r\n"
              b"Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
              + chunks + b"0\r\n\r\n")
    status, _, body = wire.response()
    assert status == 200, body
    token = json.loads(body)["access_token"]
    wire.send(_get("/services/data/%s/limits" % API, token))
    status, headers, body = wire.response()
    assert status == 200 and "DailyApiRequests" in json.loads(body)
    wire.close()


def test_chunked_json_body_of_a_rest_write(fresh):
    wire = Wire(fresh)
    payload = json.dumps({"Name": "Chunked Co", "Industry": "Energy"}).encode()
    wire.send(b"POST /services/data/%s/sobjects/Account HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\n"
              b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n"
              % (API.encode(), fresh.token(PROD).encode(), len(payload), payload))
    status, _, body = wire.response()
    assert status == 201, body
    record = fresh.rest(PROD, "GET", "sobjects/Account/" + json.loads(body)["id"]).json()
    assert record["Name"] == "Chunked Co"
    wire.close()


def test_keep_alive_and_pipelined_requests_answered_in_order(emulator):
    token = emulator.token(PROD)
    wire = Wire(emulator)
    paths = ["/services/data/%s/limits" % API, "/services/data/%s/query?q=SELECT+Id+FROM+Organization" % API,
             "/services/data/%s/sobjects/User/describe" % API]
    wire.send("".join(_get(path, token) for path in paths))      # all three before reading any answer
    bodies = [json.loads(wire.response()[2]) for _ in paths]
    assert "DailyApiRequests" in bodies[0]
    assert bodies[1]["records"][0]["attributes"]["type"] == "Organization"
    assert bodies[2]["name"] == "User"
    wire.send(_get(paths[0], token))
    assert wire.response()[0] == 200
    wire.close()


def test_expect_100_continue(emulator):
    form = _password_form(emulator)
    wire = Wire(emulator)
    wire.send(b"POST /services/oauth2/token HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\n"
              b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n" % len(form))
    status, _, _ = wire.response()
    assert status == 100
    wire.send(form)
    status, _, body = wire.response()
    assert status == 200 and "access_token" in json.loads(body)
    wire.close()


def test_head_is_get_without_body(emulator):
    token = emulator.token(PROD)
    wire = Wire(emulator)
    path = "/services/data/%s/sobjects/User/describe" % API
    wire.send(_get(path, token))
    _, got_headers, got_body = wire.response()
    wire.send(_get(path, token).replace("GET", "HEAD", 1))
    status, headers, body = wire.response(head=True)
    assert status == 200 and body == b""
    assert headers["content-type"].startswith("application/json")
    assert int(headers["content-length"]) == len(got_body) == int(got_headers["content-length"])
    assert headers["sforce-limit-info"].startswith("api-usage=")
    wire.send(_get("/services/data/%s/limits" % API, token))       # nothing of a body was left on the wire
    assert wire.response()[0] == 200
    wire.close()


def test_405_lists_head_wherever_get_is_allowed(emulator):
    some_user = emulator.org(PROD)["admin"]["user_id"]
    answer = emulator.rest(PROD, "PUT", "sobjects/Account/001000000000000AAA", json={})
    assert answer.status_code == 405
    assert answer.json() == [{"errorCode": "METHOD_NOT_ALLOWED",
                              "message": "HTTP Method 'PUT' not allowed. Allowed are HEAD,GET,PATCH,DELETE"}]
    answer = emulator.rest(PROD, "POST", "limits", json={})
    assert answer.status_code == 405
    assert answer.json()[0]["message"] == "HTTP Method 'POST' not allowed. Allowed are HEAD,GET"
    answer = emulator.rest(PROD, "DELETE", "sobjects/User/" + some_user)
    assert answer.status_code == 405 and "Allowed are HEAD,GET,PATCH" in answer.json()[0]["message"]


def test_options_answers_json_not_html(emulator):
    answer = emulator.rest(PROD, "OPTIONS", "limits")
    assert answer.status_code == 405
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json()[0]["errorCode"] == "METHOD_NOT_ALLOWED"


def test_leading_double_slash_is_one_slash(emulator):
    # `sf org login access-token` stores the instance URL as "https://host:port/" and then asks
    # "//services/data/..." for every call: orgs answer it as the single-slash path.
    wire = Wire(emulator)
    token = emulator.token(PROD)
    wire.send(_get("//services/data/%s/query?q=SELECT+Id+FROM+Organization" % API, token))
    status, _, body = wire.response()
    assert status == 200, body
    assert json.loads(body)["records"][0]["Id"] == emulator.org(PROD)["org_id"]
    wire.send(_get("//services/data", token))
    status, _, body = wire.response()
    assert status == 200 and json.loads(body)[-1]["version"] == emulator.ready["api_version"]
    wire.close()


def test_bad_request_line_is_refused_and_connection_closed(emulator):
    wire = Wire(emulator)
    wire.send("26a\r\n\r\n")
    status, _, _ = wire.response()
    assert status == 400
    assert wire.closed_by_server()


def test_two_hundred_concurrent_connections(emulator):
    token = emulator.token(PROD)
    wires = [Wire(emulator, timeout=60) for _ in range(200)]     # all open at once
    statuses = []
    lock = threading.Lock()

    def ask(wire):
        wire.send(_get("/services/data/%s/limits" % API, token))
        status = wire.response()[0]
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=ask, args=(wire,)) for wire in wires]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    for wire in wires:
        wire.close()
    assert statuses == [200] * 200
