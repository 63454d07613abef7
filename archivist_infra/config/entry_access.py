"""`archivist:ingress.writes`, `.auth` and `.limits`: who may use the public entry for what.

By default the entry publishes only the application's read routes (entry/routes.py classifies each
route with its file:line); writes and administration stay behind `ops port-forward`. A stack that
created its own Gateway may publish them with `writes: authenticated`, behind the authentication
its platform runs natively:
- gke: Identity-Aware Proxy on the write backends (GCPBackendPolicy `iap`), writers are IAM members;
- envoy (eks, aks, local): an Envoy Gateway SecurityPolicy on the write route, either JWT (writers
  are values of a claim, `email` by default) or API keys (writers are client names; the stack
  generates one key per writer into a Secret).
`limits` are per-client and budget rate limits and the request body limit the entry enforces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, cast

from .reader import ConfigReader

Writes = Literal["none", "authenticated"]
AuthMethod = Literal["iap", "jwt", "apiKey"]
METHODS: dict[str, tuple[AuthMethod, ...]] = {"gke": ("iap",), "envoy": ("jwt", "apiKey")}
_IAM_MEMBER = re.compile(r"^(user|group|serviceAccount|domain):[^\s:]+$")
_CLIENT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")  # also a valid Secret data key
_OAUTH_CLIENT_ID = re.compile(r"^[0-9]+-[a-z0-9]+\.apps\.googleusercontent\.com$")
_HTTPS_URL = re.compile(r"^https://[^\s/]+(/\S*)?$")
_CLAIM = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]*$")
IAP_SECRET_KEY = "iapClientSecret"  # archivist:iapClientSecret, the OAuth client's secret

# Envoy proxy replicas per platform. Local rate limits count per proxy, so every budget is split
# evenly across them (entry/policies.py); the proxies have no autoscaler, so the count is fixed.
ENVOY_PROXY_REPLICAS = {"local": 1, "eks": 2, "aks": 2}


@dataclass(frozen=True)
class JwtAuth:
    issuer: str
    jwks_uri: str
    audiences: tuple[str, ...] = ()
    claim: str = "email"


@dataclass(frozen=True)
class WriteAuth:
    method: AuthMethod
    writers: tuple[str, ...]
    iap_client_id: str | None = None
    jwt: JwtAuth | None = None


@dataclass(frozen=True)
class EntryLimits:
    """Figures the entry enforces (entry/policies.py); defaults explained in docs/public-entry-security.md."""

    per_client_per_minute: int = 120  # every published route, per client address
    gemini_per_minute: int = 30  # all clients together: Gemini calls of the published quota routes
    search_per_minute: int = 20  # all clients together: POST /api/search (arXiv asks for one call per 3 s)
    max_request_body: str = "64Ki"  # envoy: larger bodies get 413


@dataclass(frozen=True)
class EntryAccess:
    writes: Writes = "none"
    auth: WriteAuth | None = None
    limits: EntryLimits = EntryLimits()
    proxy_replicas: int = 1  # envoy: the proxies each budget is split across

    @property
    def publishes_writes(self) -> bool:
        return self.writes == "authenticated" and self.auth is not None


def parse_access(reader: ConfigReader, *, controller: str | None, platform: str, mode: str,
                 created: bool) -> EntryAccess:
    """`controller` is the created entry's ('gke' or 'envoy'); None for an Ingress or an adopted Gateway."""
    writes = cast(Writes, reader.choice("writes", "none", ("none", "authenticated")))
    auth_section = reader.section("auth")
    limits = _limits(reader.section("limits"), controller=controller, mode=mode, created=created)
    if writes == "authenticated" and controller is None:
        where = "a plain Ingress" if mode == "ingress" else "an adopted Gateway"
        reader.problems.add(reader.key("writes"),
                            f"{where} has no authentication the stack can attach: writes stay behind "
                            "`ops port-forward`; or let the stack create the Gateway (mode gateway, gateway.create: true)")
    auth = None
    if writes == "authenticated" and controller is not None:
        auth = _auth(auth_section, reader, controller)
    elif auth_section._raw:
        reader.problems.add(auth_section.path, "is only used with writes: authenticated")
        auth_section.reject_unknown(())
    replicas = ENVOY_PROXY_REPLICAS.get(platform, 1) if controller == "envoy" else 1
    if controller == "envoy":
        section = reader.section("limits")
        for key, value in (("geminiPerMinute", limits.gemini_per_minute), ("searchPerMinute", limits.search_per_minute),
                           ("perClientPerMinute", limits.per_client_per_minute)):
            if value < replicas:
                section.problems.add(section.key(key), f"must be at least {replicas}: the budget is split across "
                                                       f"{replicas} Envoy proxies, each counting its own share")
            elif key != "perClientPerMinute" and value // replicas > limits.per_client_per_minute:
                # Envoy Gateway applies the strictest of the local rules a request matches
                # (backendtrafficpolicies CRD, rateLimit.local.rules): a budget share above the
                # per-client limit would not be the one counted.
                section.problems.add(section.key(key), f"{value} a minute ({value // replicas} per proxy) is above "
                                                       f"perClientPerMinute ({limits.per_client_per_minute}); "
                                                       "a budget must be the strictest limit on its routes")
    return EntryAccess(writes=writes, auth=auth, limits=limits, proxy_replicas=replicas)


def _limits(section: ConfigReader, *, controller: str | None, mode: str, created: bool) -> EntryLimits:
    d = EntryLimits()
    if controller is None and section._raw:
        section.problems.add(section.path, "is only enforced by an entry the stack creates (mode gateway, "
                                           f"gateway.create: true); mode {mode!r}{'' if created else ' with an adopted Gateway'} "
                                           "publishes no quota route and applies no limit")
        section.reject_unknown(())
        return d
    limits = EntryLimits(
        per_client_per_minute=section.integer("perClientPerMinute", d.per_client_per_minute, minimum=1, maximum=100_000),
        gemini_per_minute=section.integer("geminiPerMinute", d.gemini_per_minute, minimum=1, maximum=100_000),
        search_per_minute=section.integer("searchPerMinute", d.search_per_minute, minimum=1, maximum=100_000),
        max_request_body=section.quantity("maxRequestBody", d.max_request_body, what="request body size", example="64Ki"),
    )
    if controller == "gke" and section.has("maxRequestBody"):
        section.problems.add(section.key("maxRequestBody"),
                             "GKE's load balancer has no request body limit to set; remove the key "
                             "(docs/public-entry-security.md, 'Body size')")
    section.reject_unknown()
    return limits


def _auth(section: ConfigReader, reader: ConfigReader, controller: str) -> WriteAuth | None:
    methods = METHODS[controller]
    method = section.choice("method", methods[-1], ("iap", "jwt", "apiKey"))
    if method not in methods:
        section.problems.add(section.key("method"),
                             f"{method!r} is not available on the {controller} entry; use {' or '.join(map(repr, methods))}")
        method = methods[-1]
    writers = tuple(section.string_list("writers"))
    iap = section.section("iap")
    jwt = section.section("jwt")
    ok = True
    if not writers:
        example = {"iap": "user:alice@example.com", "jwt": "alice@example.com", "apiKey": "ci-publisher"}[method]
        section.problems.add(section.key("writers"), f"writes: authenticated needs who may write, e.g. [{example}]")
        ok = False
    elif method == "iap":
        bad = [w for w in writers if not _IAM_MEMBER.match(w)]
        if bad:
            section.problems.add(section.key("writers"), f"{', '.join(map(repr, bad))} not IAM members such as "
                                                         "'user:alice@example.com' or 'group:editors@example.com'")
            ok = False
    elif method == "apiKey":
        bad = [w for w in writers if not _CLIENT_NAME.match(w)]
        if bad:
            section.problems.add(section.key("writers"), f"{', '.join(map(repr, bad))} not client names (lower-case "
                                                         "letters, digits, dashes), e.g. 'ci-publisher'")
            ok = False
    if len(set(writers)) != len(writers):
        section.problems.add(section.key("writers"), "lists a writer twice")
        ok = False

    client_id = None
    jwt_auth = None
    if method == "iap":
        client_id = iap.optional_string("clientId")
        iap.reject_unknown()
        if client_id is None:
            iap.problems.add(iap.key("clientId"), "IAP needs the OAuth client's id (GCPBackendPolicy iap.clientID), "
                                                  "e.g. 123456789-abc.apps.googleusercontent.com, and its secret in "
                                                  f"`pulumi config set --secret archivist:{IAP_SECRET_KEY} <secret>`")
            ok = False
        elif not _OAUTH_CLIENT_ID.match(client_id):
            iap.problems.add(iap.key("clientId"), f"{client_id!r} is not an OAuth client id such as "
                                                  "123456789-abc.apps.googleusercontent.com")
            ok = False
    elif iap._raw:
        section.problems.add(iap.path, f"is only used with method 'iap' (method is {method!r})")
        iap.reject_unknown(())
    if method == "jwt":
        issuer = jwt.optional_string("issuer")
        jwks = jwt.optional_string("jwksUri")
        audiences = tuple(jwt.string_list("audiences"))
        claim = jwt.string("claim", "email", pattern=_CLAIM, hint="a JWT claim name such as 'email' or 'sub'")
        jwt.reject_unknown()
        for key, value in (("issuer", issuer), ("jwksUri", jwks)):
            if value is None:
                jwt.problems.add(jwt.key(key), "method 'jwt' needs the identity provider's issuer and JWKS address, "
                                               "e.g. issuer https://accounts.example.com, jwksUri https://accounts.example.com/jwks")
                ok = False
            elif not _HTTPS_URL.match(value):
                jwt.problems.add(jwt.key(key), f"{value!r} is not an https:// address")
                ok = False
        if issuer and jwks:
            jwt_auth = JwtAuth(issuer=issuer, jwks_uri=jwks, audiences=audiences, claim=claim)
    elif jwt._raw:
        section.problems.add(jwt.path, f"is only used with method 'jwt' (method is {method!r})")
        jwt.reject_unknown(())
    section.reject_unknown()
    if not ok:
        return None
    return WriteAuth(method=method, writers=writers, iap_client_id=client_id, jwt=jwt_auth)
