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
