//! The authorizer: whether the browser's session answers an authorization request
//! (`prompt`, `max_age`, `id_token_hint`, OIDC Core §3.1.2.1), the consent page, and the
//! login page's answers. Sessions and consents live in the real store.

use crate::support::*;
use sigil_core::authorize::{
    AuthorizationRequest, AuthorizeError, AuthorizeStep, ConsentDecision, SignInOutcome,
};
use sigil_core::error::ErrorCode;
use sigil_core::model::Session;
use sigil_core::time::Timestamp;
use std::net::{IpAddr, Ipv4Addr};

const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A good request from `web` (which asks users for consent here).
fn base() -> Vec<(&'static str, &'static str)> {
    vec![
        ("client_id", WEB.id),
        ("redirect_uri", WEB.redirect_uri),
        ("response_type", "code"),
        ("scope", "openid orders.read"),
        ("state", "s-1"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
}

/// [`base`] with `changes` (an empty value removes the parameter).
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

/// `seconds` after `at`.
fn plus(at: Timestamp, seconds: u64) -> Timestamp {
    Timestamp(at.as_secs() + seconds)
}

/// The environment where `web` asks for consent.
async fn env_with_consent() -> Env {
    env_with(|client| {
        if client.client_id == WEB.id {
            client.sign_in.require_consent = true;
        }
    })
    .await
}

/// An environment where alice signed in at `now` and agreed, remembered, to `base()`'s
/// scopes; that session and `now`.
async fn signed_in_and_consented() -> (Env, Session, Timestamp) {
    let env = env_with_consent().await;
    let now = env.now();
    let session = session_at(&env, &ALICE, now).await;
    let step = authorize(&env, &base(), Some(&session), now)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let AuthorizeStep::Consent { request, .. } = step else {
        panic!("expected the consent page, got {step:?}");
    };
    let allow = ConsentDecision::Allow { remember: true };
    let step = consent(&env, request, Some(&session), allow, now)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(matches!(step, AuthorizeStep::Respond(_)), "{step:?}");
    (env, session, now)
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
    let (env, session, now) = signed_in_and_consented().await;
    for later in [0, 1, 600] {
        let pairs = with(&[("prompt", "login")]);
        let step = authorize(&env, &pairs, Some(&session), plus(now, later)).await;
        assert!(is_login(&step), "at +{later}: {step:?}");
    }
}

#[tokio::test]
async fn max_age_zero_wants_a_new_sign_in_even_within_the_same_second() {
    let (env, session, now) = signed_in_and_consented().await;
    let step = authorize(&env, &with(&[("max_age", "0")]), Some(&session), now).await;
    assert!(is_login(&step), "{step:?}");
}

/// An ID token the core issued to `web` for `subject` a day before `now`, long expired.
async fn id_token_for(env: &Env, subject: &str, now: Timestamp) -> String {
    let day_before = Timestamp(now.as_secs() - 86_400);
    id_token_at(env, WEB, subject, day_before).await
}

/// `prompt=none` with `hint` as the `id_token_hint`.
fn silent_with_hint(hint: &str) -> Vec<(&str, &str)> {
    with(&[("prompt", "none")])
        .into_iter()
        .chain([("id_token_hint", hint)])
        .collect()
}

#[tokio::test]
async fn prompt_none_answers_only_for_the_user_the_id_token_hint_names() {
    let (env, session, now) = signed_in_and_consented().await;
    let alices = id_token_for(&env, ALICE.subject, now).await;
    let bobs = id_token_for(&env, BOB.subject, now).await;

    let step = authorize(&env, &silent_with_hint(&alices), Some(&session), now).await;
    assert!(
        is_code(&step),
        "the signed-in user's own (expired) hint: {step:?}"
    );

    let step = authorize(&env, &silent_with_hint(&bobs), Some(&session), now).await;
    assert_eq!(error_of(&step), Some("login_required"), "{step:?}");

    // Without prompt=none, the user is asked to sign in as the hinted user.
    let hinted: Vec<_> = base()
        .into_iter()
        .chain([("id_token_hint", bobs.as_str())])
        .collect();
    let step = authorize(&env, &hinted, Some(&session), now).await;
    assert!(is_login(&step), "{step:?}");
}

#[tokio::test]
async fn a_forged_or_foreign_id_token_hint_is_an_invalid_request() {
    let (env, session, now) = signed_in_and_consented().await;
    let genuine = id_token_for(&env, ALICE.subject, now).await;
    let (signed, _) = genuine.rsplit_once('.').unwrap_or_default();
    let forged = format!("{signed}.AAAA");
    // Signed with this server's key, but an access token, not an ID token.
    let access_claims = format!(r#"{{"iss":"{ISSUER}","sub":"alice-id","aud":"web"}}"#);
    let not_an_id_token = signed_by_this_server(&env, "at+jwt", access_claims.as_bytes()).await;
    // Signed with this server's key, but naming another issuer.
    let foreign = signed_by_this_server(
        &env,
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
        let step = authorize(&env, &silent_with_hint(hint), Some(&session), now).await;
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

/// The request `pairs` make, as the login page hands it on after signing alice in for it at
/// `at`; and that session.
async fn logged_in_for(
    env: &Env,
    pairs: &[(&str, &str)],
    at: Timestamp,
) -> (AuthorizationRequest, Session) {
    let step = authorize(env, pairs, None, at).await;
    let Ok(AuthorizeStep::Login(request)) = step else {
        panic!("expected the login page, got {step:?}");
    };
    let session = session_at(env, &ALICE, at).await;
    (request.signed_in_with(&session), session)
}

#[tokio::test]
async fn the_sign_in_done_for_a_request_answers_its_prompt_login_and_max_age_at_any_second() {
    let (env, _, now) = signed_in_and_consented().await;
    for changes in [
        [("max_age", "0")],
        [("prompt", "login")],
        [("max_age", "1")],
    ] {
        let (request, session) = logged_in_for(&env, &with(&changes), now).await;
        for later in [0, 1, 2, 30] {
            let step =
                continue_authorize(&env, request.clone(), Some(&session), plus(now, later)).await;
            assert!(is_code(&step), "{changes:?} at +{later}: {step:?}");
        }
        // Another session (another sign-in in the same browser, or another browser) does not
        // count as the one this request asked for.
        let other = session_at(&env, &ALICE, now).await;
        let step = continue_authorize(&env, request.clone(), Some(&other), now).await;
        let expect_login = changes != [("max_age", "1")];
        assert_eq!(is_login(&step), expect_login, "{changes:?}: {step:?}");
    }
}

#[tokio::test]
async fn the_sign_in_still_counts_after_the_consent_page() {
    let env = env_with_consent().await;
    let now = env.now();
    for changes in [[("max_age", "0")], [("prompt", "login consent")]] {
        let (request, session) = logged_in_for(&env, &with(&changes), now).await;
        let step = continue_authorize(&env, request, Some(&session), plus(now, 1)).await;
        let Ok(AuthorizeStep::Consent { request, .. }) = step else {
            panic!("{changes:?}: expected the consent page, got {step:?}");
        };
        let allow = ConsentDecision::Allow { remember: false };
        let step = consent(&env, request.clone(), Some(&session), allow, plus(now, 2)).await;
        assert!(is_code(&step), "{changes:?}: {step:?}");
        // The consent post is no way around a fresh sign-in: another session is sent to login.
        let other = session_at(&env, &ALICE, plus(now, 2)).await;
        let step = consent(&env, request, Some(&other), allow, plus(now, 2)).await;
        assert!(is_login(&step), "{changes:?}: {step:?}");
    }
}

#[tokio::test]
async fn max_age_is_met_only_by_a_sign_in_certainly_no_older() {
    let (env, session, now) = signed_in_and_consented().await;
    // auth_time is whole seconds: at +N s the sign-in is between N - 1 and N + 1 s old.
    for (max_age, later, answered) in [
        ("1", 0, true),
        ("1", 1, false),
        ("5", 4, true),
        ("5", 5, false),
        ("3600", 3599, true),
    ] {
        let pairs = with(&[("max_age", max_age)]);
        let step = authorize(&env, &pairs, Some(&session), plus(now, later)).await;
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
    let (env, _, now) = signed_in_and_consented().await;
    let bobs = id_token_for(&env, BOB.subject, now).await;
    let pairs: Vec<_> = base()
        .into_iter()
        .chain([("id_token_hint", bobs.as_str())])
        .collect();
    // Nobody signed in: the login page. Alice signs in there for this request.
    let (request, session) = logged_in_for(&env, &pairs, now).await;
    assert_eq!(request.hinted_subject.as_deref(), Some(BOB.subject));
    let step = continue_authorize(&env, request, Some(&session), now).await;
    assert_eq!(error_of(&step), Some("login_required"), "{step:?}");
}

#[tokio::test]
async fn prompt_select_account_lets_the_user_choose_on_the_login_page_even_with_a_session() {
    let (env, session, now) = signed_in_and_consented().await;
    for prompt in ["select_account", "select_account consent"] {
        for later in [0, 1, 600] {
            let pairs = with(&[("prompt", prompt), ("login_hint", "alice")]);
            let step = authorize(&env, &pairs, Some(&session), plus(now, later)).await;
            let Ok(AuthorizeStep::Login(request)) = step else {
                panic!("{prompt} at +{later}: expected the login page, got {step:?}");
            };
            // The user chooses: the page does not name an account for them.
            assert_eq!(request.prefilled_username(), None, "{prompt}");
        }
    }
    // Without select_account, the hint is prefilled.
    let pairs = with(&[("prompt", "login"), ("login_hint", "alice")]);
    let step = authorize(&env, &pairs, None, now).await;
    let Ok(AuthorizeStep::Login(request)) = step else {
        panic!("expected the login page, got {step:?}");
    };
    assert_eq!(request.prefilled_username(), Some("alice"));
}

#[tokio::test]
async fn the_sign_in_done_for_select_account_answers_it_at_any_second() {
    let (env, _, now) = signed_in_and_consented().await;
    let (request, session) = logged_in_for(&env, &with(&[("prompt", "select_account")]), now).await;
    for later in [0, 1, 2, 30] {
        let step =
            continue_authorize(&env, request.clone(), Some(&session), plus(now, later)).await;
        assert!(is_code(&step), "at +{later}: {step:?}");
    }
    // A session from before (or beside) the choice does not answer it.
    let other = session_at(&env, &ALICE, now).await;
    let step = continue_authorize(&env, request, Some(&other), now).await;
    assert!(is_login(&step), "{step:?}");
}

// ---- The login page ----

#[tokio::test]
async fn a_password_that_could_not_be_checked_is_a_retry_not_a_failure() {
    let env = env().await;
    let now = env.now();
    let localhost = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let error = log_in(&env, BUSY_USER, SECRET, localhost, now)
        .await
        .unwrap_err();
    assert_eq!(error.code, ErrorCode::TemporarilyUnavailable);
    let signed_in = log_in(&env, ALICE.username, ALICE.password, localhost, now)
        .await
        .unwrap();
    assert!(matches!(signed_in, SignInOutcome::SignedIn(_)));
}
