# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # Mirrors CONNECTION_OPTIONS in plugins/module_utils/connection.py (a unit test compares them).
    DOCUMENTATION = r"""
options:
  login_url:
    description:
      - URL of the OAuth token endpoint's host, for example C(https://login.salesforce.com),
        C(https://test.salesforce.com) or the org's My Domain URL C(https://acme.my.salesforce.com).
      - O(auth=client_credentials) needs the org's My Domain URL here (or in O(instance_url)).
      - Defaults to C(https://login.salesforce.com) for O(auth=jwt) and O(auth=password).
      - If not set, the environment variable E(SALESFORCE_LOGIN_URL) is used.
    type: str
  instance_url:
    description:
      - URL of the org's instance, for example C(https://acme.my.salesforce.com).
      - Required with O(auth=access_token). With the other methods the token response names the
        instance, and this option only serves as the token host when O(login_url) is not set.
      - If not set, the environment variable E(SALESFORCE_INSTANCE_URL) is used.
    type: str
  auth:
    description:
      - Authentication method. When not set it is inferred from the options given, in this order
        O(access_token) -> V(access_token), O(private_key) or O(private_key_file) -> V(jwt),
        O(password) -> V(password), O(client_id) and O(client_secret) -> V(client_credentials).
      - V(client_credentials) is the OAuth 2.0 client credentials flow (the connected app's Run As user).
      - V(jwt) is the OAuth 2.0 JWT bearer flow, signed with RS256.
      - V(access_token) uses a token obtained elsewhere (for example from the Salesforce CLI). Such a
        session cannot be renewed when it expires.
      - V(password) is the OAuth username-password flow. It is deprecated; Salesforce retires it for
        connected apps on 2027-02-20, and the modules emit a deprecation warning when it is used.
      - If not set, the environment variable E(SALESFORCE_AUTH) is used.
    type: str
    choices: [client_credentials, jwt, access_token, password]
  client_id:
    description:
      - Consumer key of the connected app (V(client_credentials), V(jwt), V(password)).
      - If not set, the environment variable E(SALESFORCE_CLIENT_ID) is used.
    type: str
  client_secret:
    description:
      - Consumer secret of the connected app (V(client_credentials), V(password)).
      - If not set, the environment variable E(SALESFORCE_CLIENT_SECRET) is used.
    type: str
  private_key:
    description:
      - PEM text of the RSA private key that signs the JWT (V(jwt)). Mutually exclusive in practice
        with O(private_key_file); O(private_key) wins when both are set.
      - If not set, the environment variable E(SALESFORCE_PRIVATE_KEY) is used.
    type: str
  private_key_file:
    description:
      - Path of a PEM file holding the RSA private key that signs the JWT (V(jwt)), read on the controller.
      - If not set, the environment variable E(SALESFORCE_PRIVATE_KEY_FILE) is used.
    type: path
  username:
    description:
      - Username to log in as (V(jwt) subject, V(password)). Also names the user in error messages.
      - If not set, the environment variable E(SALESFORCE_USERNAME) is used.
    type: str
  password:
    description:
      - Password of O(username) (V(password) only).
      - If not set, the environment variable E(SALESFORCE_PASSWORD) is used.
    type: str
  security_token:
    description:
      - Security token appended to O(password) (V(password) only), when the org requires it.
      - If not set, the environment variable E(SALESFORCE_SECURITY_TOKEN) is used.
    type: str
  access_token:
    description:
      - Bearer token of an existing session (V(access_token)); needs O(instance_url).
      - Secret options (O(client_secret), O(password), O(security_token), O(access_token)) holding a space, a
        tab, a line break or another control character are refused before anything is sent, with a message
        that never shows the value. O(private_key) may hold line breaks (PEM), no other control character.
      - If not set, the environment variable E(SALESFORCE_ACCESS_TOKEN) is used.
    type: str
  audience:
    description:
      - The C(aud) claim of the JWT (V(jwt)), kept separate from O(login_url).
      - Defaults to C(https://test.salesforce.com) when O(login_url) is C(test.salesforce.com) or a
        sandbox My Domain host (C(*.sandbox.my.salesforce.com)), else to C(https://login.salesforce.com).
        Set it explicitly for a sandbox reached through any other login URL.
      - If not set, the environment variable E(SALESFORCE_AUDIENCE) is used.
    type: str
  api_version:
    description:
      - REST API version, without the C(v), for example V(62.0). Anything but digits, a dot and a digit is
        refused.
      - If not set, the environment variable E(SALESFORCE_API_VERSION) is used.
    type: str
    default: '62.0'
  validate_certs:
    description:
      - Verify the TLS certificate of Salesforce. Only disable it against a test server.
      - If not set, the environment variable E(SALESFORCE_VALIDATE_CERTS) is used.
    type: bool
    default: true
  ca_path:
    description:
      - PEM bundle of certificate authorities used to verify TLS certificates instead of the
        system store. Proxy and CA environment variables (C(REQUESTS_CA_BUNDLE), C(HTTPS_PROXY))
        are deliberately ignored.
      - If not set, the environment variable E(SALESFORCE_CA_PATH) is used.
    type: path
  timeout:
    description:
      - Seconds to wait for Salesforce to answer one HTTP request. The whole body must arrive within it,
        so a server trickling its answer does not keep the task waiting.
      - If not set, the environment variable E(SALESFORCE_TIMEOUT) is used.
    type: float
    default: 30.0
  retries:
    description:
      - How many times a request is retried after a connection error, HTTP 429, 500, 502, 503 or 504
        (whatever the body, HTML included), or C(UNABLE_TO_LOCK_ROW), with jittered exponential backoff.
        C(REQUEST_LIMIT_EXCEEDED) is never retried. A write that is not idempotent (a create, a composite
        request) is never sent again after the connection broke once it was sent; the modules read the org
        back to learn whether it was applied. An expired session is renewed once, independently of this setting, when
        the auth method can log in again.
      - If not set, the environment variable E(SALESFORCE_RETRIES) is used.
    type: int
    default: 3
  allowed_hosts:
    description:
      - Extra hosts a token answer may name as C(instance_url) or identity URL, as C(host), C(host:port)
        or C(.domain) (every host below it).
      - Without it only the configured O(login_url) and O(instance_url) hosts and Salesforce's own domains
        (C(*.salesforce.com), C(*.force.com) and the like, on port 443) are accepted; any other host, and
        any C(http://) URL, fails the task before a bearer token is sent.
      - Redirects are never followed, whatever this option holds.
      - If not set, the environment variable E(SALESFORCE_ALLOWED_HOSTS) is used (comma-separated).
    type: list
    elements: str
notes:
  - All connection options can be set once for every module of this collection with
    C(module_defaults) and the action group C(group/sfops.integration_users.salesforce).
  - The modules run on the controller (through action plugins of the same name); Python libraries
    C(simple-salesforce), C(requests) and C(PyJWT) (for O(auth=jwt)) are needed there.
requirements:
  - simple-salesforce >= 1.12
  - requests
  - PyJWT (for O(auth=jwt))
"""

    ATTRIBUTES = r"""
attributes:
  action_group:
    description: Use C(group/sfops.integration_users.salesforce) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - sfops.integration_users.salesforce
  action:
    description: Runs on the controller through an action plugin of the same name.
    support: full
  async:
    description: Does not support async.
    support: none
"""
