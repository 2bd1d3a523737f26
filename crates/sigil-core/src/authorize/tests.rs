//! Authorization request validation: what is refused, and whether the refusal is shown to
//! the user or sent to the client.

use super::request::{AuthorizeError, validate};
use super::{ClientRedirect, ResponseMode};
use crate::error::ErrorCode;
use crate::parameters::Parameters;
use crate::testing::{NOW, services};

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
    let (_, services) = services();
    validate(services.catalog(), ISSUER, &params(pairs), NOW)
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

// ---- Whether the session's sign-in answers the request (OIDC Core §3.1.2.1) ----

use super::{AuthorizeStep, ConsentDecision, LoginAttempt, Session, SignInOutcome};
use crate::endpoint::Services;
use crate::signing::TokenSigner as _;
use crate::testing::SECRET;
use crate::time::Timestamp;
use crate::tokens::IdTokenRequest;

/// Alice signs in at `at`.
async fn alice_at(services: &Services, at: Timestamp) -> Session {
    let attempt = LoginAttempt {
        username: "alice",
        password: SECRET,
        address: std::net::Ipv4Addr::LOCALHOST.into(),
    };
    match services.authorizer.sign_in(&attempt, at).await {
        Ok(SignInOutcome::SignedIn(session)) => session,
        other => panic!("alice's sign-in: {other:?}"),
    }
}

/// A services where alice signed in at `NOW` and agreed, remembered, to `base()`'s scopes.
async fn signed_in_and_consented() -> (Services, Session) {
    let (_, services) = services();
    let session = alice_at(&services, NOW).await;
    let step = services
        .authorizer
        .authorize(&params(&base()), Some(&session), NOW)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let AuthorizeStep::Consent { request, .. } = step else {
        panic!("expected the consent page, got {step:?}");
    };
    let allow = ConsentDecision::Allow { remember: true };
    let step = services
        .authorizer
        .consent(request, Some(&session), allow, NOW)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(matches!(step, AuthorizeStep::Respond(_)), "{step:?}");
    (services, session)
}

fn is_login(step: &Result<AuthorizeStep, AuthorizeError>) -> bool {
    matches!(step, Ok(AuthorizeStep::Login(_)))
}

fn is_code(step: &Result<AuthorizeStep, AuthorizeError>) -> bool {
    matches!(step, Ok(AuthorizeStep::Respond(issued)) if issued.redirect.param("code").is_some())
}

fn error_of(step: &Result<AuthorizeStep, AuthorizeError>) -> Option<&str> {
    match step {
        Err(AuthorizeError::Redirect(redirect)) => redirect.param("error"),
        _ => None,
    }
}

#[tokio::test]
async fn prompt_login_wants_a_new_sign_in_even_within_the_same_second() {
    let (services, session) = signed_in_and_consented().await;
    for now in [NOW, Timestamp(NOW.0 + 1), Timestamp(NOW.0 + 600)] {
        let step = services
            .authorizer
            .authorize(&params(&with(&[("prompt", "login")])), Some(&session), now)
            .await;
        assert!(is_login(&step), "at +{}: {step:?}", now.0 - NOW.0);
    }
}

#[tokio::test]
async fn max_age_zero_wants_a_new_sign_in_even_within_the_same_second() {
    let (services, session) = signed_in_and_consented().await;
    let step = services
        .authorizer
        .authorize(&params(&with(&[("max_age", "0")])), Some(&session), NOW)
        .await;
    assert!(is_login(&step), "{step:?}");
}

/// An ID token this services issued to `web` for `subject`, long expired.
async fn id_token_for(services: &Services, subject: &str) -> String {
    let client = services.catalog().client("web").cloned();
    let client = client.unwrap_or_else(|| panic!("no web client"));
    services
        .context()
        .minter
        .id_token(IdTokenRequest {
            client: &client,
            subject,
            nonce: None,
            auth_time: Timestamp(NOW.0 - 90_000),
            amr: &[],
            sid: None,
            access_token: None,
            code: None,
            user_claims: None,
            now: Timestamp(NOW.0 - 86_400),
        })
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
}

/// `claims` signed with this services's key under the header `typ`.
async fn signed_by_this_server(typ: &str, claims: &[u8]) -> String {
    crate::testing::DigestSigner
        .sign(typ, claims)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
}

/// `prompt=none` with `hint` as the `id_token_hint`.
fn silent_with_hint(hint: &str) -> Parameters {
    params(
        &with(&[("prompt", "none")])
            .into_iter()
            .chain([("id_token_hint", hint)])
            .collect::<Vec<_>>(),
    )
}

#[tokio::test]
async fn prompt_none_answers_only_for_the_user_the_id_token_hint_names() {
    let (services, session) = signed_in_and_consented().await;
    let alices = id_token_for(&services, "alice-id").await;
    let bobs = id_token_for(&services, "bob-id").await;

    let step = services
        .authorizer
        .authorize(&silent_with_hint(&alices), Some(&session), NOW)
        .await;
    assert!(
        is_code(&step),
        "the signed-in user's own (expired) hint: {step:?}"
    );

    let step = services
        .authorizer
        .authorize(&silent_with_hint(&bobs), Some(&session), NOW)
        .await;
    assert_eq!(error_of(&step), Some("login_required"), "{step:?}");

    // Without prompt=none, the user is asked to sign in as the hinted user.
    let hinted = params(
        &base()
            .into_iter()
            .chain([("id_token_hint", bobs.as_str())])
            .collect::<Vec<_>>(),
    );
    let step = services
        .authorizer
        .authorize(&hinted, Some(&session), NOW)
        .await;
    assert!(is_login(&step), "{step:?}");
}

#[tokio::test]
async fn a_forged_or_foreign_id_token_hint_is_an_invalid_request() {
    let (services, session) = signed_in_and_consented().await;
    let genuine = id_token_for(&services, "alice-id").await;
    let (signed, _) = genuine.rsplit_once('.').unwrap_or_default();
    let forged = format!("{signed}.AAAA");
    // Signed with this server's key, but an access token, not an ID token.
    let not_an_id_token = signed_by_this_server(
        "at+jwt",
        br#"{"iss":"https://sigil.test","sub":"alice-id","aud":"web"}"#,
    )
    .await;
    // Signed with this server's key, but naming another issuer.
    let foreign = signed_by_this_server(
        "JWT",
        br#"{"iss":"https://other.test","sub":"alice-id","aud":"web"}"#,
    )
    .await;
    for hint in [
        forged.as_str(),
        "not-a-jwt",
        not_an_id_token.as_str(),
        foreign.as_str(),
    ] {
        let step = services
            .authorizer
            .authorize(&silent_with_hint(hint), Some(&session), NOW)
            .await;
        assert_eq!(
            error_of(&step),
            Some("invalid_request"),
            "{hint:?}: {step:?}"
        );
        let Err(AuthorizeError::Redirect(redirect)) = step else {
            continue;
        };
        assert_eq!(redirect.param("state"), Some("s-1"));
    }
}

/// The request `pairs` make, as the login page hands it on after signing the user in for it
/// at `at`; and that session.
async fn logged_in_for(
    services: &Services,
    pairs: &[(&str, &str)],
    at: Timestamp,
) -> (super::AuthorizationRequest, Session) {
    let step = services
        .authorizer
        .authorize(&params(pairs), None, at)
        .await;
    let Ok(AuthorizeStep::Login(request)) = step else {
        panic!("expected the login page, got {step:?}");
    };
    let session = alice_at(services, at).await;
    (request.signed_in_with(&session), session)
}

#[tokio::test]
async fn the_sign_in_done_for_a_request_answers_its_prompt_login_and_max_age_at_any_second() {
    let (services, _) = signed_in_and_consented().await;
    for changes in [
        [("max_age", "0")],
        [("prompt", "login")],
        [("max_age", "1")],
    ] {
        let (request, session) = logged_in_for(&services, &with(&changes), NOW).await;
        for later in [0, 1, 2, 30] {
            let now = Timestamp(NOW.0 + later);
            let step = services
                .authorizer
                .continue_authorize(request.clone(), Some(&session), now)
                .await;
            assert!(is_code(&step), "{changes:?} at +{later}: {step:?}");
        }
        // Another session (another sign-in in the same browser, or another browser) does not
        // count as the one this request asked for.
        let other = alice_at(&services, NOW).await;
        let step = services
            .authorizer
            .continue_authorize(request.clone(), Some(&other), NOW)
            .await;
        let expect_login = changes != [("max_age", "1")];
        assert_eq!(is_login(&step), expect_login, "{changes:?}: {step:?}");
    }
}

#[tokio::test]
async fn the_sign_in_still_counts_after_the_consent_page() {
    let (_, services) = services();
    for changes in [[("max_age", "0")], [("prompt", "login consent")]] {
        let (request, session) = logged_in_for(&services, &with(&changes), NOW).await;
        let step = services
            .authorizer
            .continue_authorize(request, Some(&session), Timestamp(NOW.0 + 1))
            .await;
        let Ok(AuthorizeStep::Consent { request, .. }) = step else {
            panic!("{changes:?}: expected the consent page, got {step:?}");
        };
        let allow = ConsentDecision::Allow { remember: false };
        let step = services
            .authorizer
            .consent(request.clone(), Some(&session), allow, Timestamp(NOW.0 + 2))
            .await;
        assert!(is_code(&step), "{changes:?}: {step:?}");
        // The consent post is no way around a fresh sign-in: another session is sent to login.
        let other = alice_at(&services, Timestamp(NOW.0 + 2)).await;
        let step = services
            .authorizer
            .consent(request, Some(&other), allow, Timestamp(NOW.0 + 2))
            .await;
        assert!(is_login(&step), "{changes:?}: {step:?}");
    }
}

#[tokio::test]
async fn max_age_is_met_only_by_a_sign_in_certainly_no_older() {
    let (services, session) = signed_in_and_consented().await;
    // auth_time is whole seconds: at +N s the sign-in is between N - 1 and N + 1 s old.
    for (max_age, later, answered) in [
        ("1", 0, true),
        ("1", 1, false),
        ("5", 4, true),
        ("5", 5, false),
        ("3600", 3599, true),
    ] {
        let step = services
            .authorizer
            .authorize(
                &params(&with(&[("max_age", max_age)])),
                Some(&session),
                Timestamp(NOW.0 + later),
            )
            .await;
        assert_eq!(
            is_code(&step),
            answered,
            "max_age={max_age} at +{later}: {step:?}"
        );
        assert_eq!(
            is_login(&step),
            !answered,
            "max_age={max_age} at +{later}: {step:?}"
        );
    }
}

#[tokio::test]
async fn signing_in_as_someone_else_than_the_hint_names_tells_the_client() {
    let (services, _) = signed_in_and_consented().await;
    let bobs = id_token_for(&services, "bob-id").await;
    let pairs: Vec<_> = base()
        .into_iter()
        .chain([("id_token_hint", bobs.as_str())])
        .collect();
    // Nobody signed in: the login page. Alice signs in there for this request.
    let (request, session) = logged_in_for(&services, &pairs, NOW).await;
    assert_eq!(request.hinted_subject.as_deref(), Some("bob-id"));
    let step = services
        .authorizer
        .continue_authorize(request, Some(&session), NOW)
        .await;
    assert_eq!(error_of(&step), Some("login_required"), "{step:?}");
}

#[tokio::test]
async fn prompt_select_account_lets_the_user_choose_on_the_login_page_even_with_a_session() {
    let (services, session) = signed_in_and_consented().await;
    for prompt in ["select_account", "select_account consent"] {
        for now in [NOW, Timestamp(NOW.0 + 1), Timestamp(NOW.0 + 600)] {
            let pairs = with(&[("prompt", prompt), ("login_hint", "alice")]);
            let step = services
                .authorizer
                .authorize(&params(&pairs), Some(&session), now)
                .await;
            let Ok(AuthorizeStep::Login(request)) = step else {
                panic!(
                    "{prompt} at +{}: expected the login page, got {step:?}",
                    now.0 - NOW.0
                );
            };
            // The user chooses: the page does not name an account for them.
            assert_eq!(request.prefilled_username(), None, "{prompt}");
        }
    }
    // Without select_account, the hint is prefilled.
    let step = services
        .authorizer
        .authorize(
            &params(&with(&[("prompt", "login"), ("login_hint", "alice")])),
            None,
            NOW,
        )
        .await;
    let Ok(AuthorizeStep::Login(request)) = step else {
        panic!("expected the login page, got {step:?}");
    };
    assert_eq!(request.prefilled_username(), Some("alice"));
}

#[tokio::test]
async fn the_sign_in_done_for_select_account_answers_it_at_any_second() {
    let (services, _) = signed_in_and_consented().await;
    let (request, session) =
        logged_in_for(&services, &with(&[("prompt", "select_account")]), NOW).await;
    for later in [0, 1, 2, 30] {
        let step = services
            .authorizer
            .continue_authorize(request.clone(), Some(&session), Timestamp(NOW.0 + later))
            .await;
        assert!(is_code(&step), "at +{later}: {step:?}");
    }
    // A session from before (or beside) the choice does not answer it.
    let other = alice_at(&services, NOW).await;
    let step = services
        .authorizer
        .continue_authorize(request, Some(&other), NOW)
        .await;
    assert!(is_login(&step), "{step:?}");
}
