//! Authorization request validation: what is refused, and whether the refusal is shown to
//! the user or sent to the client. Validation reads only the catalog; the authorizer's steps
//! (sessions, consent, `prompt`, `max_age`, hints) are tested on the real store in
//! `tests/handlers/authorize.rs`.

use super::request::{AuthorizeError, validate};
use super::{ClientRedirect, ResponseMode};
use crate::error::ErrorCode;
use crate::parameters::Parameters;
use crate::testing::{NOW, catalog};

const ISSUER: &str = "https://sigil.test";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn params(pairs: &[(&str, &str)]) -> Parameters {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    Parameters::parse(body.as_bytes(), &["resource"]).unwrap_or_default()
}

fn base() -> Vec<(&'static str, &'static str)> {
    vec![
        ("client_id", "web"),
        ("redirect_uri", "https://app.test/cb"),
        ("response_type", "code"),
        ("scope", "openid orders.read"),
        ("state", "s-1"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
}

fn with(changes: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut pairs = base();
    for (name, value) in changes {
        pairs.retain(|(existing, _)| existing != name);
        if !value.is_empty() {
            pairs.push((name, value));
        }
    }
    pairs
}

fn check(pairs: &[(&str, &str)]) -> Result<super::AuthorizationRequest, AuthorizeError> {
    validate(&catalog(), ISSUER, &params(pairs), NOW)
}

fn redirected(pairs: &[(&str, &str)]) -> ClientRedirect {
    match check(pairs) {
        Err(AuthorizeError::Redirect(redirect)) => redirect,
        other => panic!("expected an error redirect, got {other:?}"),
    }
}

#[test]
fn a_good_request_validates() {
    let request = check(&base()).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(request.response_mode, ResponseMode::Query);
    assert_eq!(request.scopes.as_slice(), ["openid", "orders.read"]);
    assert_eq!(request.audiences, ["https://orders"]);
    assert_eq!(request.state.as_deref(), Some("s-1"));
}

#[test]
fn tampered_redirect_uris_are_shown_to_the_user_never_redirected() {
    for tampered in [
        "https://app.test/cb/evil",
        "https://app.test/cb?x=1",
        "https://APP.test/cb",
        "https://app.test/CB",
        "https://app.test/cb/",
        "https://evil@app.test/cb",
        "https://app.test:8443/cb",
        "http://app.test/cb",
        "https://app.test/cb#frag",
        "http://127.0.0.1:4001/cb",
        "https://app.test.evil.example/cb",
    ] {
        match check(&with(&[("redirect_uri", tampered)])) {
            Err(AuthorizeError::Untrusted(error)) => {
                assert_eq!(error.code, ErrorCode::InvalidRequest, "{tampered}")
            }
            other => panic!("{tampered}: expected an untrusted error, got {other:?}"),
        }
    }
}

#[test]
fn unknown_client_or_missing_redirect_is_shown_to_the_user() {
    for pairs in [
        with(&[("client_id", "nobody")]),
        with(&[("client_id", "")]),
        with(&[("redirect_uri", "")]),
    ] {
        assert!(matches!(check(&pairs), Err(AuthorizeError::Untrusted(_))));
    }
}

#[test]
fn errors_after_the_redirect_uri_is_trusted_go_to_the_client_with_state_and_iss() {
    let redirect = redirected(&with(&[("response_type", "token")]));
    assert_eq!(redirect.param("error"), Some("unsupported_response_type"));
    assert_eq!(redirect.param("state"), Some("s-1"));
    assert_eq!(redirect.param("iss"), Some(ISSUER));
    assert_eq!(redirect.redirect_uri, "https://app.test/cb");
}

#[test]
fn pkce_is_required_and_s256_only_by_default() {
    let missing = redirected(&with(&[
        ("code_challenge", ""),
        ("code_challenge_method", ""),
    ]));
    assert_eq!(missing.param("error"), Some("invalid_request"));
    let plain = redirected(&with(&[("code_challenge_method", "plain")]));
    assert_eq!(plain.param("error"), Some("invalid_request"));
    let implied_plain = redirected(&with(&[("code_challenge_method", "")]));
    assert_eq!(implied_plain.param("error"), Some("invalid_request"));
    let malformed = redirected(&with(&[("code_challenge", "too-short")]));
    assert_eq!(malformed.param("error"), Some("invalid_request"));
    let unknown = redirected(&with(&[("code_challenge_method", "S512")]));
    assert_eq!(unknown.param("error"), Some("invalid_request"));
}

#[test]
fn hybrid_needs_openid_and_a_nonce_and_defaults_to_the_fragment() {
    let no_nonce = redirected(&with(&[("response_type", "code id_token")]));
    assert_eq!(no_nonce.param("error"), Some("invalid_request"));
    assert_eq!(no_nonce.mode, ResponseMode::Fragment);
    let no_openid = redirected(&with(&[
        ("response_type", "code id_token"),
        ("nonce", "n"),
        ("scope", "orders.read"),
    ]));
    assert_eq!(no_openid.param("error"), Some("invalid_scope"));
    let in_query = redirected(&with(&[
        ("response_type", "code id_token"),
        ("nonce", "n"),
        ("response_mode", "query"),
    ]));
    assert_eq!(in_query.param("error"), Some("invalid_request"));
    let request = check(&with(&[("response_type", "id_token code"), ("nonce", "n")]))
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(request.response_mode, ResponseMode::Fragment);
}

#[test]
fn implicit_is_refused_unless_the_client_allows_it() {
    let redirect = redirected(&with(&[
        ("response_type", "id_token token"),
        ("nonce", "n"),
    ]));
    assert_eq!(redirect.param("error"), Some("unauthorized_client"));
}

#[test]
fn scopes_prompt_and_unsupported_parameters() {
    let cases: [(&[(&'static str, &'static str)], &str); 9] = [
        (&[("scope", "openid admin")], "invalid_scope"),
        (&[("scope", "")], "invalid_scope"),
        (&[("prompt", "none login")], "invalid_request"),
        (&[("prompt", "none select_account")], "invalid_request"),
        (&[("prompt", "select_account none")], "invalid_request"),
        (&[("prompt", "sometimes")], "invalid_request"),
        (&[("max_age", "-1")], "invalid_request"),
        (&[("request", "eyJ...")], "request_not_supported"),
        (&[("request_uri", "https://x")], "request_uri_not_supported"),
    ];
    for (changes, expected) in cases {
        let redirect = redirected(&with(changes));
        assert_eq!(redirect.param("error"), Some(expected), "{changes:?}");
    }
}

#[test]
fn state_round_trips_exactly() {
    let odd = "a b&c=d#e%f\u{e9}+/?";
    let request = check(&with(&[("state", odd)])).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(request.state.as_deref(), Some(odd));
    let redirect = redirected(&with(&[("state", odd), ("response_type", "token")]));
    assert_eq!(redirect.param("state"), Some(odd));
}
