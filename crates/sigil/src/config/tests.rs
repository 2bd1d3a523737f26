use super::*;

const GRANTS: &[&str] = &["client_credentials"];

fn issues_of(yaml: &str) -> Vec<String> {
    match Config::parse(yaml) {
        Err(error) => vec![error.to_string()],
        Ok(config) => match config.validate(GRANTS) {
            Ok(_) => vec![],
            Err(issues) => issues.0.iter().map(ToString::to_string).collect(),
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
    let demo = include_str!("../commands/dev/demo.yaml").replace(
        "{{DEMO_SECRET_HASH}}",
        "sha256:n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg",
    );
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
