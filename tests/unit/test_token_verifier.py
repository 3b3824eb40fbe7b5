import pytest
from pivotal_runtime.auth import JwksKeySource, StaticKeySource, TokenVerifier
from pivotal_runtime.errors import Unauthenticated

from tests.support.tokens import AUDIENCE, ISSUER, TokenMinter, unsigned_token


@pytest.fixture(scope="module")
def signer():
    return TokenMinter()


def verifier_for(keys) -> TokenVerifier:
    return TokenVerifier(keys, issuer=ISSUER, audience=AUDIENCE, leeway=0)


def test_valid_token_gives_the_caller(signer):
    principal = verifier_for(StaticKeySource(signer.keys())).verify(
        signer.mint(roles=["manager"], org="org-9", sub="u-7"))
    assert (principal.subject, principal.organization_id) == ("u-7", "org-9")
    assert principal.has_permission("quotes:approve")


@pytest.mark.parametrize(
    "make_token, reason",
    [
        (lambda s: s.mint(ttl=-60), "TOKEN_EXPIRED"),
        (lambda s: s.mint(aud="someone-else"), "TOKEN_INVALID"),
        (lambda s: s.mint(iss="https://evil.example"), "TOKEN_INVALID"),
        (lambda s: TokenMinter(kid=s.kid).mint(), "TOKEN_INVALID"),  # same kid, other key
        (lambda s: s.mint(kid="unknown-kid"), "TOKEN_INVALID"),
        (lambda s: unsigned_token(), "TOKEN_INVALID"),
        (lambda s: "not-a-jwt", "TOKEN_INVALID"),
    ],
    ids=["expired", "wrong-audience", "wrong-issuer", "foreign-key", "unknown-kid", "alg-none",
         "garbage"],
)
def test_bad_tokens_are_refused(signer, make_token, reason):
    with pytest.raises(Unauthenticated) as error:
        verifier_for(StaticKeySource(signer.keys())).verify(make_token(signer))
    assert error.value.reason == reason


def jwks_of(*signers) -> dict:
    import json

    import jwt

    return {"keys": [{**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(s.public_key)),
                      "kid": s.kid, "use": "sig", "alg": "RS256"} for s in signers]}


def test_jwks_is_cached_and_refreshed_on_an_unknown_kid():
    old, new = TokenMinter(), TokenMinter()
    published = [jwks_of(old)]
    fetches = []
    clock = [1000.0]

    def fetch():
        fetches.append(1)
        return published[0]

    source = JwksKeySource(fetch, min_refresh_interval=30, clock=lambda: clock[0])
    verifier = verifier_for(source)
    verifier.verify(old.mint())
    verifier.verify(old.mint())
    assert len(fetches) == 1  # cached

    published[0] = jwks_of(old, new)  # identity rotated its key
    clock[0] += 31
    verifier.verify(new.mint())  # unknown kid → one refresh
    assert len(fetches) == 2


def test_unknown_kid_does_not_hammer_identity():
    signer = TokenMinter()
    fetches = []
    source = JwksKeySource(lambda: fetches.append(1) or jwks_of(signer), min_refresh_interval=30)
    verifier = verifier_for(source)
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            verifier.verify(signer.mint(kid="forged"))
    assert len(fetches) == 1


# --- a crafted token never escapes as anything but UNAUTHENTICATED -------------------------

import base64  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

import jwt  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_EC_KEY = ec.generate_private_key(ec.SECP256R1())
_ED_KEY = ed25519.Ed25519PrivateKey.generate()
_OTHER_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _claims(**overrides):
    now = int(time.time())
    return {"sub": "u", "org": "o", "roles": [], "iss": ISSUER, "aud": AUDIENCE, "iat": now,
            "exp": now + 60, "jti": "j", **overrides}


@pytest.mark.parametrize("algorithm, key", [("ES256", _EC_KEY), ("EdDSA", _ED_KEY)],
                         ids=["ES256", "EdDSA"])
def test_an_algorithm_that_does_not_fit_the_keys_type_is_refused(signer, algorithm, key):
    # The attack of issue 9: an ES256 or EdDSA token naming identity's RSA key by its kid.
    token = jwt.encode(_claims(), key, algorithm=algorithm, headers={"kid": signer.kid})
    with pytest.raises(Unauthenticated) as error:
        verifier_for(StaticKeySource(signer.keys())).verify(token)
    assert error.value.reason == "TOKEN_INVALID"


def _b64(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).decode().rstrip("=")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                               max_size=3),
    max_leaves=8,
)
claim_sets = st.fixed_dictionaries(
    {}, optional=dict.fromkeys(("sub", "org", "roles", "perms", "sid", "iss", "aud", "exp",
                                "iat", "jti", "client_id"), json_values))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header=st.dictionaries(st.sampled_from(["alg", "kid", "typ", "crit", "jku"]), json_values,
                              max_size=4),
       algorithm=st.sampled_from(["RS256", "ES256", "EdDSA", "HS256", "none"]),
       claims=claim_sets,
       signing=st.sampled_from(["rsa-own", "rsa-other", "ec", "ed", "raw"]),
       tail=st.binary(max_size=64))
def test_random_headers_algorithms_keys_and_claims_only_ever_give_unauthenticated(
        signer, header, algorithm, claims, signing, tail):
    keys = StaticKeySource({signer.kid: signer.public_key, "ec": _EC_KEY.public_key(),
                            "ed": _ED_KEY.public_key()})
    header = {"kid": signer.kid, **header}
    if signing == "raw":
        try:
            token = ".".join([_b64(json.dumps(header, default=str).encode()),
                              _b64(json.dumps(claims, default=str).encode()), _b64(tail)])
        except (ValueError, OverflowError):
            return
    else:
        key = {"rsa-own": signer.private_key, "rsa-other": _OTHER_RSA, "ec": _EC_KEY,
               "ed": _ED_KEY}[signing]
        signing_algorithm = {"ec": "ES256", "ed": "EdDSA"}.get(signing, "RS256")
        extra = {k: v for k, v in header.items() if k not in ("alg", "typ")}
        try:
            token = jwt.encode(claims, key, algorithm=signing_algorithm, headers=extra)
        except (TypeError, ValueError, OverflowError, jwt.PyJWTError):
            return
    with contextlib.suppress(Unauthenticated):  # the only exception it may raise
        verifier_for(keys).verify(token)


def test_an_oversized_token_is_refused_before_parsing(signer):
    with pytest.raises(Unauthenticated):
        verifier_for(StaticKeySource(signer.keys())).verify(signer.mint(pad="x" * 10_000))
