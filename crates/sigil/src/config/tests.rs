//! Loading and validating whole configuration files: what is accepted, and the message and
//! path of every problem found.

use super::*;
use sigil_core::grants::BUILT_IN_GRANT_TYPES as GRANTS;
use sigil_core::model::{RefreshIssue, ResponseType};
use std::time::Duration;

fn issues_of(yaml: &str) -> Vec<String> {
    match Config::parse(yaml) {
        Err(error) => vec![error.to_string()],
        Ok(config) => match config.validate(GRANTS) {
            Ok(_) => vec![],
            Err(issues) => issues.lines(),
        },
    }
}

const VALID: &str = r#"
api_scopes: [{ name: a.read }]
api_resources: [{ resource: "https://a", scopes: [a.read] }]
clients:
  - client_id: app
    secrets: ["sha256:n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg"]
    grant_types: [client_credentials]
    scopes: [a.read]
"#;

#[test]
fn the_documented_example_is_valid() {
    let example = include_str!("../../../../deploy/sigil.example.yaml");
    assert_eq!(issues_of(example), Vec::<String>::new());
}

#[test]
fn the_demo_configuration_is_valid() {
    let demo = include_str!("../commands/dev/demo.yaml")
        .replace(
            "{{DEMO_SECRET_HASH}}",
            "sha256:n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg",
        )
        .replace("{{DEMO_USER_PASSWORD_HASH}}", ARGON2ID);
    assert_eq!(issues_of(&demo), Vec::<String>::new());
}

#[test]
fn a_minimal_file_is_valid() {
    assert_eq!(issues_of(VALID), Vec::<String>::new());
}

#[test]
fn unknown_fields_are_rejected_with_their_path() {
    let typo = VALID.replace("grant_types:", "grant_type:");
    let issues = issues_of(&typo);
    assert_eq!(issues.len(), 1);
    assert!(
        issues[0].starts_with("clients[0]: unknown field `grant_type`"),
        "{issues:?}"
    );

    let nested = VALID.replace("scopes: [a.read] }]", "scopes: [a.read], audience: x }]");
    assert!(issues_of(&nested)[0].starts_with("api_resources[0]: unknown field `audience`"));

    let source = format!("{VALID}\nsigning: {{ source: {{ kind: dev, path: /x }} }}\n");
    assert!(
        issues_of(&source)[0].contains("unknown field `path`"),
        "{:?}",
        issues_of(&source)
    );
}

#[test]
fn wrong_types_and_values_name_the_field() {
    let lifetime = VALID.replace(
        "scopes: [a.read]\n",
        "scopes: [a.read]\n    access_token_lifetime: soon\n",
    );
    assert!(issues_of(&lifetime)[0].starts_with("clients[0].access_token_lifetime"));
    let alg = format!("{VALID}\nsigning: {{ algorithm: HS256 }}\n");
    assert!(
        issues_of(&alg)[0].starts_with("signing.algorithm"),
        "{:?}",
        issues_of(&alg)
    );
}

#[test]
fn broken_references_and_formats_are_all_reported() {
    let yaml = r#"
server: { issuer: "https://login.example.com/" }
api_scopes: [{ name: a.read }, { name: a.read }, { name: "bad scope" }]
api_resources: [{ resource: "not a uri", scopes: [b.read] }]
clients:
  - client_id: app
    secrets: ["plaintext"]
    grant_types: [password]
    scopes: [c.read]
  - client_id: keyless
    token_endpoint_auth_method: private_key_jwt
    grant_types: [client_credentials]
    scopes: [a.read]
"#;
    let issues = issues_of(yaml);
    let paths: Vec<&str> = issues
        .iter()
        .filter_map(|issue| issue.split(':').next())
        .collect();
    assert_eq!(
        paths,
        [
            "server.issuer",
            "api_scopes[1].name",
            "api_scopes[2].name",
            "api_resources[0].resource",
            "api_resources[0].scopes[0]",
            "clients[0].secrets[0]",
            "clients[0].grant_types[0]",
            "clients[0].scopes[0]",
            "clients[1].jwks",
        ],
        "{issues:#?}"
    );
}

#[test]
fn duplicate_clients_and_method_mismatches() {
    let twice = VALID.replace("clients:\n", "clients:\n  - client_id: app\n    secrets: [\"sha256:n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg\"]\n    grant_types: [client_credentials]\n    scopes: [a.read]\n");
    assert!(issues_of(&twice)[0].contains("defined twice"));
    let public_with_secret = VALID.replace(
        "    secrets:",
        "    token_endpoint_auth_method: none\n    secrets:",
    );
    assert!(issues_of(&public_with_secret)[0].starts_with("clients[0].secrets"));
    let symmetric = VALID.replace(
        "    secrets: [\"sha256:n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg\"]\n",
        "    token_endpoint_auth_method: private_key_jwt\n    jwks: { keys: [{ kty: oct, k: c2VjcmV0 }] }\n",
    );
    assert!(
        issues_of(&symmetric)[0].starts_with("clients[0].jwks.keys[0]"),
        "{:?}",
        issues_of(&symmetric)
    );
}

#[test]
fn key_timings_that_would_reject_tokens_are_refused() {
    let short_propagation = format!(
        "{VALID}\nsigning: {{ refresh_interval: 1m, rotation: {{ propagation: 30s, rotation: 90d, retention: 7d }} }}\n"
    );
    assert!(
        issues_of(&short_propagation)[0].starts_with("signing.rotation.propagation"),
        "{:?}",
        issues_of(&short_propagation)
    );
    // The client's tokens live 1h (the default); a 10 minute retention would drop the key first.
    let short_retention = format!(
        "{VALID}\nsigning: {{ rotation: {{ propagation: 2d, rotation: 90d, retention: 10m }} }}\n"
    );
    assert!(
        issues_of(&short_retention)[0].starts_with("signing.rotation.retention"),
        "{:?}",
        issues_of(&short_retention)
    );
    let sound = format!(
        "{VALID}\nsigning: {{ refresh_interval: 30s, rotation: {{ propagation: 1h, rotation: 30d, retention: 1d }} }}\n"
    );
    assert_eq!(issues_of(&sound), Vec::<String>::new());
}

/// An argon2id hash (of `alice-password-for-tests`).
const ARGON2ID: &str = "$argon2id$v=19$m=19456,t=2,p=1$7Hlkt0OW6SkXRDZlLawjFA$mJ8MzGCFFNeBAnw5c/JY3C7di1zwiha/cpi/pjBVdXI";

const SIGN_IN: &str = r#"
server: { issuer: "https://login.example.com" }
sessions: { lifetime: 1h, consent_lifetime: 30d }
api_scopes: [{ name: a.read }]
api_resources: [{ resource: "https://a", scopes: [a.read] }]
identity_scopes: [{ name: roles, claims: [roles] }]
users:
  - subject: alice-id
    username: alice
    password_hash: "ARGON2ID"
    claims: { name: Alice Example, email_verified: true, roles: [admin] }
clients:
  - client_id: web
    client_name: Web Shop
    secrets: ["sha256:n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg"]
    grant_types: [authorization_code, refresh_token]
    redirect_uris: [http://app.test/callback, "com.example.app:/cb"]
    post_logout_redirect_uris: [http://app.test/]
    response_types: [code, "id_token code"]
    scopes: [openid, profile, roles, offline_access, a.read]
    refresh_token: { issue: always, sliding_lifetime: 1d, absolute_lifetime: 7d, grace_period: 5s }
    id_token_lifetime: 10m
    authorization_code_lifetime: 30s
  - client_id: spa
    token_endpoint_auth_method: none
    grant_types: [authorization_code]
    redirect_uris: [http://spa.test/cb]
    scopes: [openid]
"#;

fn sign_in(changes: &[(&str, &str)]) -> String {
    let mut yaml = SIGN_IN.replace("ARGON2ID", ARGON2ID);
    for (from, to) in changes {
        assert!(yaml.contains(from), "`{from}` is not in the example");
        yaml = yaml.replacen(from, to, 1);
    }
    yaml
}

/// The issues of the sign-in example with `changes` applied; asserts there is one, at `path`,
/// and returns its message.
fn refused(changes: &[(&str, &str)], path: &str) -> String {
    let issues = issues_of(&sign_in(changes));
    assert_eq!(issues.len(), 1, "{changes:?}: {issues:#?}");
    let prefix = format!("{path}: ");
    assert!(issues[0].starts_with(&prefix), "{changes:?}: {issues:#?}");
    issues[0][prefix.len()..].to_owned()
}

#[test]
fn a_sign_in_configuration_becomes_clients_users_scopes_and_sessions() {
    let config = Config::parse(&sign_in(&[])).unwrap();
    let catalog = config.validate(GRANTS).unwrap();

    let web = catalog.client("web").unwrap();
    assert_eq!(web.display_name(), "Web Shop");
    assert!(web.has_redirect_uri("com.example.app:/cb"));
    assert!(web.has_post_logout_redirect_uri("http://app.test/"));
    let policy = &web.sign_in;
    assert_eq!(
        policy.response_types,
        [ResponseType::Code, ResponseType::CodeIdToken]
    );
    assert!(policy.require_pkce && !policy.allow_plain_pkce && policy.require_consent);
    assert_eq!(policy.refresh.issue, RefreshIssue::Always);
    assert_eq!(policy.refresh.sliding_lifetime, Duration::from_secs(86_400));
    assert_eq!(
        policy.refresh.absolute_lifetime,
        Duration::from_secs(7 * 86_400)
    );
    assert_eq!(policy.refresh.grace_period, Duration::from_secs(5));
    assert_eq!(policy.id_token_lifetime, Duration::from_secs(600));
    assert_eq!(policy.code_lifetime, Duration::from_secs(30));
    // Both kinds of scope stay on the client.
    assert!(web.allows_scope("openid") && web.allows_scope("roles") && web.allows_scope("a.read"));
    assert!(catalog.is_identity_scope("roles") && !catalog.is_identity_scope("a.read"));
    assert!(catalog.claim_names().contains(&"roles"));

    // Defaults: `code` for an authorization_code client, PKCE, 5m id_tokens, 60s codes.
    let spa = catalog.client("spa").unwrap();
    assert!(spa.is_public());
    assert_eq!(spa.display_name(), "spa");
    assert_eq!(spa.sign_in.response_types, [ResponseType::Code]);
    assert!(spa.sign_in.require_pkce);
    assert_eq!(spa.sign_in.id_token_lifetime, Duration::from_secs(300));
    assert_eq!(spa.sign_in.code_lifetime, Duration::from_secs(60));

    let accounts = config.user_accounts();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].user.subject, "alice-id");
    assert_eq!(accounts[0].user.username, "alice");
    assert_eq!(
        accounts[0].user.claims["roles"],
        serde_json::json!(["admin"])
    );
    assert_eq!(accounts[0].user.claims["email_verified"], true);
    assert!(accounts[0].password.verify("alice-password-for-tests"));

    let sessions = config.sessions.settings();
    assert_eq!(sessions.lifetime, Duration::from_secs(3600));
    assert_eq!(sessions.consent_lifetime, Duration::from_secs(30 * 86_400));
    assert!(config.sessions.cookie_secure("https://login.example.com"));
}

#[test]
fn client_credentials_clients_need_no_sign_in_settings() {
    let catalog = Config::parse(VALID).unwrap().validate(GRANTS).unwrap();
    let app = catalog.client("app").unwrap();
    assert!(app.sign_in.response_types.is_empty());
    assert!(app.sign_in.redirect_uris.is_empty());
    let defaults = Config::parse("").unwrap();
    assert_eq!(
        defaults.sessions.settings().lifetime,
        Duration::from_secs(8 * 3600)
    );
    assert_eq!(
        defaults.sessions.settings().consent_lifetime,
        Duration::from_secs(90 * 86_400)
    );
}

#[test]
fn users_need_unique_names_and_an_argon2id_password_hash() {
    let second_user = |subject: &str, username: &str| {
        format!(
            "  - subject: {subject}\n    username: {username}\n    password_hash: \"{ARGON2ID}\"\nclients:\n"
        )
    };
    let message = refused(
        &[("clients:\n", &second_user("alice-id", "alice2"))],
        "users[1].subject",
    );
    assert!(message.contains("another user"), "{message}");
    refused(
        &[("clients:\n", &second_user("alice2-id", "alice"))],
        "users[1].username",
    );
    refused(
        &[("subject: alice-id", "subject: \"\"")],
        "users[0].subject",
    );
    refused(
        &[("username: alice", "username: \"\"")],
        "users[0].username",
    );

    let message = refused(
        &[(
            ARGON2ID,
            "sha256:n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg",
        )],
        "users[0].password_hash",
    );
    assert!(message.contains("argon2id"), "{message}");
    assert!(message.contains("sigil secret hash"), "{message}");
    let message = refused(&[(ARGON2ID, "hunter2")], "users[0].password_hash");
    assert!(message.contains("sigil secret hash"), "{message}");
    refused(
        &[(ARGON2ID, "$argon2id$v=19$broken")],
        "users[0].password_hash",
    );
}

#[test]
fn user_claims_are_a_map_without_protocol_claims() {
    let message = refused(
        &[("name: Alice Example", "sub: other")],
        "users[0].claims.sub",
    );
    assert!(message.contains("subject"), "{message}");
    refused(&[("name: Alice Example", "iss: x")], "users[0].claims.iss");
    let list = issues_of(&sign_in(&[(
        "claims: { name: Alice Example, email_verified: true, roles: [admin] }",
        "claims: [name]",
    )]));
    assert!(list[0].starts_with("users[0].claims"), "{list:?}");
}

#[test]
fn identity_scopes_are_scope_tokens_distinct_from_api_scopes() {
    let message = refused(
        &[
            ("name: roles", "name: a.read"),
            (" roles, offline", " offline"),
        ],
        "identity_scopes[0].name",
    );
    assert!(message.contains("api_scopes"), "{message}");
    // The clients that use `roles` now name an API scope instead; only the clash is reported.
    refused(
        &[
            ("name: roles, claims", "name: \"my roles\", claims"),
            (" roles, offline", " offline"),
        ],
        "identity_scopes[0].name",
    );
    refused(
        &[
            ("name: roles, claims", "name: openid, claims"),
            (" roles, offline", " offline"),
        ],
        "identity_scopes[0].name",
    );
    refused(
        &[("claims: [roles]", "claims: []")],
        "identity_scopes[0].claims",
    );
    refused(
        &[(
            "api_scopes: [{ name: a.read }]",
            "api_scopes: [{ name: a.read }, { name: email }]",
        )],
        "api_scopes[1].name",
    );
    let message = refused(
        &[("roles, offline_access", "groups, offline_access")],
        "clients[0].scopes[2]",
    );
    assert!(message.contains("identity_scopes"), "{message}");
}

#[test]
fn redirect_uris_are_absolute_without_fragment_and_required_for_sign_in() {
    refused(
        &[(
            "http://app.test/callback,",
            "\"http://app.test/callback#x\",",
        )],
        "clients[0].redirect_uris[0]",
    );
    refused(
        &[("http://app.test/callback,", "/callback,")],
        "clients[0].redirect_uris[0]",
    );
    refused(
        &[("http://app.test/callback,", "\"javascript:alert(1)\",")],
        "clients[0].redirect_uris[0]",
    );
    refused(
        &[(
            "post_logout_redirect_uris: [http://app.test/]",
            "post_logout_redirect_uris: [app.test]",
        )],
        "clients[0].post_logout_redirect_uris[0]",
    );
    let message = refused(
        &[("    redirect_uris: [http://spa.test/cb]\n", "")],
        "clients[1].redirect_uris",
    );
    assert!(message.contains("at least one"), "{message}");
}

#[test]
fn response_types_need_their_grant_types() {
    let message = refused(
        &[
            (
                "grant_types: [authorization_code, refresh_token]",
                "grant_types: [refresh_token]",
            ),
            (
                "response_types: [code, \"id_token code\"]",
                "response_types: [code]",
            ),
        ],
        "clients[0].response_types[0]",
    );
    assert!(message.contains("authorization_code"), "{message}");
    let issues = issues_of(&sign_in(&[(
        "response_types: [code, \"id_token code\"]",
        "response_types: [code, id_token, \"code token\"]",
    )]));
    let paths: Vec<&str> = issues.iter().filter_map(|i| i.split(": ").next()).collect();
    assert_eq!(
        paths,
        [
            "clients[0].response_types[1]",
            "clients[0].response_types[2]"
        ],
        "{issues:#?}"
    );
    assert!(issues[0].contains("implicit"), "{issues:#?}");
    // With `implicit` listed, implicit response types are accepted...
    let implicit = sign_in(&[
        (
            "grant_types: [authorization_code, refresh_token]",
            "grant_types: [authorization_code, implicit]",
        ),
        (
            "response_types: [code, \"id_token code\"]",
            "response_types: [code, \"id_token token\"]",
        ),
    ]);
    assert_eq!(issues_of(&implicit), Vec::<String>::new());
    // ...but they carry an id_token, so the client needs `openid`.
    refused(
        &[
            (
                "grant_types: [authorization_code, refresh_token]",
                "grant_types: [authorization_code, implicit]",
            ),
            (
                "response_types: [code, \"id_token code\"]",
                "response_types: [id_token]",
            ),
            ("scopes: [openid, profile,", "scopes: [profile,"),
        ],
        "clients[0].scopes",
    );
    refused(
        &[(
            "grant_types: [authorization_code, refresh_token]",
            "grant_types: [authorization_code, implicit]",
        )],
        "clients[0].response_types",
    );
}

#[test]
fn public_clients_have_no_credentials_and_always_use_pkce() {
    refused(
        &[(
            "grant_types: [authorization_code]\n",
            "grant_types: [authorization_code, client_credentials]\n",
        )],
        "clients[1].grant_types[1]",
    );
    let message = refused(
        &[(
            "scopes: [openid]\n",
            "scopes: [openid]\n    require_pkce: false\n",
        )],
        "clients[1].require_pkce",
    );
    assert!(message.contains("PKCE"), "{message}");
    // A confidential client may turn PKCE off (for apps that cannot do it).
    assert_eq!(
        issues_of(&sign_in(&[(
            "client_name: Web Shop",
            "client_name: Web Shop\n    require_pkce: false"
        )])),
        Vec::<String>::new()
    );
}

#[test]
fn refresh_token_lifetimes_must_nest() {
    refused(
        &[("absolute_lifetime: 7d", "absolute_lifetime: 12h")],
        "clients[0].refresh_token.absolute_lifetime",
    );
    refused(
        &[("grace_period: 5s", "grace_period: 1d")],
        "clients[0].refresh_token.grace_period",
    );
    refused(
        &[("sliding_lifetime: 1d", "sliding_lifetime: 0s")],
        "clients[0].refresh_token.sliding_lifetime",
    );
    refused(
        &[("id_token_lifetime: 10m", "id_token_lifetime: 0s")],
        "clients[0].id_token_lifetime",
    );
    refused(
        &[(
            "authorization_code_lifetime: 30s",
            "authorization_code_lifetime: 0s",
        )],
        "clients[0].authorization_code_lifetime",
    );
    let typo = issues_of(&sign_in(&[("issue: always", "issue: sometimes")]));
    assert!(
        typo[0].starts_with("clients[0].refresh_token.issue"),
        "{typo:?}"
    );
}

#[test]
fn session_lifetimes_must_be_positive() {
    refused(&[("lifetime: 1h", "lifetime: 0s")], "sessions.lifetime");
    refused(
        &[("consent_lifetime: 30d", "consent_lifetime: 0s")],
        "sessions.consent_lifetime",
    );
    let unknown = issues_of(&sign_in(&[("lifetime: 1h", "lifetime: 1h, sliding: true")]));
    assert!(
        unknown[0].starts_with("sessions: unknown field `sliding`"),
        "{unknown:?}"
    );
}

#[test]
fn cors_origins_are_origins_exactly_as_browsers_send_them() {
    let spa_origins = |origins: &str| {
        [(
            "redirect_uris: [http://spa.test/cb]\n",
            format!("redirect_uris: [http://spa.test/cb]\n    allowed_cors_origins: {origins}\n"),
        )]
    };
    let config = Config::parse(&sign_in(
        &spa_origins("[http://spa.test, \"http://127.0.0.1:5173\"]")
            .iter()
            .map(|(from, to)| (*from, to.as_str()))
            .collect::<Vec<_>>(),
    ))
    .unwrap();
    let catalog = config.validate(GRANTS).unwrap();
    let spa = catalog.client("spa").unwrap();
    assert!(spa.allows_cors_origin("http://spa.test"));
    assert!(spa.allows_cors_origin("http://127.0.0.1:5173"));
    assert!(!spa.allows_cors_origin("http://spa.test/"));
    assert!(!spa.allows_cors_origin("https://spa.test"));
    assert!(
        !catalog
            .client("web")
            .unwrap()
            .allows_cors_origin("http://spa.test")
    );

    for (origins, message) in [
        ("[http://spa.test/]", "trailing `/`"),
        ("[http://spa.test/app]", "no path"),
        ("[\"https://*.spa.test\"]", "wildcards"),
        ("[\"*\"]", "wildcards"),
        ("[spa.test]", "must be an origin"),
        ("[\"null\"]", "must be an origin"),
        ("[\"file:///app.html\"]", "http or https"),
        ("[HTTP://SPA.test]", "`http://spa.test`"),
        ("[\"https://spa.test:443\"]", "`https://spa.test`"),
        ("[http://spa.test, http://spa.test]", "listed twice"),
    ] {
        let changes = spa_origins(origins);
        let changes: Vec<(&str, &str)> = changes
            .iter()
            .map(|(from, to)| (*from, to.as_str()))
            .collect();
        let path = if message == "listed twice" {
            "clients[1].allowed_cors_origins[1]"
        } else {
            "clients[1].allowed_cors_origins[0]"
        };
        let said = refused(&changes, path);
        assert!(said.contains(message), "{origins}: {said}");
    }
}

#[test]
fn an_ed25519_key_may_be_registered_under_either_algorithm_name() {
    // RFC 8037's example key; RFC 9864 names its algorithm `Ed25519`, RFC 8037 `EdDSA`.
    for alg in ["Ed25519", "EdDSA"] {
        let yaml = VALID.replace(
            "    secrets: [\"sha256:n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg\"]\n",
            &format!(
                "    token_endpoint_auth_method: private_key_jwt\n    jwks: {{ keys: [{{ kty: OKP, crv: Ed25519, alg: {alg}, x: 11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo }}] }}\n"
            ),
        );
        assert_eq!(issues_of(&yaml), Vec::<String>::new(), "alg {alg}");
    }
    // The fully specified name fits only its own key type.
    let rsa_as_ed25519 = VALID.replace(
        "    secrets: [\"sha256:n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg\"]\n",
        "    token_endpoint_auth_method: private_key_jwt\n    jwks: { keys: [{ kty: RSA, alg: Ed25519, n: sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw, e: AQAB }] }\n",
    );
    assert!(
        issues_of(&rsa_as_ed25519)
            .first()
            .is_some_and(|issue| issue.starts_with("clients[0].jwks.keys[0]")),
        "{:?}",
        issues_of(&rsa_as_ed25519)
    );
}
