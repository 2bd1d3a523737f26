//! The monitoring that ships with the chart: the Grafana dashboard
//! (`helm/sigil/files/dashboards/sigil.json`, linked from `deploy/grafana/`) and the alert rules
//! (`helm/sigil/files/alerts.yaml`, unit-tested in `deploy/prometheus/alerts.test.yaml`).
//!
//! - Every metric name a panel or an alert queries is served by a running token pod or store
//!   node: a panel on a metric that does not exist shows "no data" forever, an alert on one
//!   never fires. Names come from the PromQL itself (see [`metric_names`]), and the only
//!   exceptions are the Kubernetes series listed in [`KUBERNETES_SERIES`].
//! - `promtool check rules` accepts the rules and `promtool test rules` passes; every
//!   dashboard query parses as PromQL.
//! - Every alert has a severity, a summary, a description and a runbook in
//!   `deploy/KUBERNETES.md`.

use serde_json::Value as Json;
use sigil_e2e::signin::{ALICE, Authorize, User, WEB, WEB_SCOPES, is_active, log_in, open};
use sigil_e2e::signin::{field, sign_in_and_redeem};
use sigil_e2e::{CLIENT_SECRET, POD_ISSUER, deployment_config};
use sigil_testkit::SigilDev;
use sigil_testkit::browser::Browser;
use sigil_testkit::client::{basic, form, post_form};
use sigil_testkit::cluster::{StoreCluster, metrics_text};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Series that Prometheus gets from kube-state-metrics and the kubelet, not from Sigil: the
/// HPA's replicas (pods near the HPA maximum), the store volumes' free space, and which pod
/// mounts which claim (to narrow the volumes to store nodes). Each must be used somewhere.
const KUBERNETES_SERIES: &[&str] = &[
    "kube_horizontalpodautoscaler_spec_max_replicas",
    "kube_horizontalpodautoscaler_status_current_replicas",
    "kube_pod_spec_volumes_persistentvolumeclaims_info",
    "kubelet_volume_stats_available_bytes",
    "kubelet_volume_stats_capacity_bytes",
];

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn read(relative: &str) -> String {
    let path = repository().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The metric names a PromQL expression selects: every identifier that is not a function or
/// aggregation (followed by `(`, or by `by`/`without`), not a keyword, and not inside label matchers (`{…}`), range
/// or subquery brackets (`[…]`), string literals, or the label list of `by`/`without`/`on`/
/// `ignoring`/`group_left`/`group_right`. Grafana variables (`$namespace`,
/// `$__rate_interval`, `${x}`) are skipped.
fn metric_names(expr: &str) -> BTreeSet<String> {
    const GROUPING: &[&str] = &[
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
    ];
    const KEYWORDS: &[&str] = &[
        "and", "or", "unless", "bool", "offset", "inf", "nan", "atan2",
    ];
    let chars: Vec<char> = expr.chars().collect();
    let mut names = BTreeSet::new();
    let mut i = 0;
    // Skips from an opening bracket at `start` to just past its match.
    let skip_group = |start: usize, open: char, close: char| -> usize {
        let mut depth = 0;
        let mut j = start;
        while j < chars.len() {
            if chars[j] == open {
                depth += 1;
            } else if chars[j] == close {
                depth -= 1;
                if depth == 0 {
                    return j + 1;
                }
            } else if matches!(chars[j], '"' | '\'' | '`') {
                let quote = chars[j];
                j += 1;
                while j < chars.len() && chars[j] != quote {
                    j += usize::from(chars[j] == '\\') + 1;
                }
            }
            j += 1;
        }
        panic!("unbalanced {open} in {expr}");
    };
    while i < chars.len() {
        let c = chars[i];
        if matches!(c, '"' | '\'' | '`') {
            i += 1;
            while i < chars.len() && chars[i] != c {
                i += usize::from(chars[i] == '\\') + 1;
            }
            i += 1;
        } else if c == '{' {
            i = skip_group(i, '{', '}');
        } else if c == '[' {
            i = skip_group(i, '[', ']');
        } else if c == '$' {
            i += 1;
            if chars.get(i) == Some(&'{') {
                i = skip_group(i, '{', '}');
            }
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            // Numbers and durations (0.99, 1e3, 5m, 0x1f).
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let mut next = i;
            while next < chars.len() && chars[next].is_whitespace() {
                next += 1;
            }
            let rest: String = chars[next..].iter().collect();
            // `sum by (…) (…)`: an aggregation with its grouping before the parenthesis.
            let grouped = ["by", "without"].iter().any(|keyword| {
                rest.strip_prefix(keyword)
                    .is_some_and(|after| after.starts_with(|c: char| c == '(' || c.is_whitespace()))
            });
            let followed_by_paren = chars.get(next) == Some(&'(') || grouped;
            let lower = word.to_ascii_lowercase();
            if GROUPING.contains(&lower.as_str()) {
                if followed_by_paren {
                    i = skip_group(next, '(', ')');
                }
            } else if !followed_by_paren && !KEYWORDS.contains(&lower.as_str()) {
                names.insert(word);
            }
        } else {
            i += 1;
        }
    }
    names
}

/// The PromQL expressions of the dashboard's panels (rows nest panels).
fn panel_queries(dashboard: &Json) -> Vec<String> {
    fn targets(value: &Json, out: &mut Vec<String>) {
        match value {
            Json::Object(map) => {
                if let Some(Json::String(expr)) = map.get("expr") {
                    out.push(expr.clone());
                }
                map.values().for_each(|inner| targets(inner, out));
            }
            Json::Array(items) => items.iter().for_each(|item| targets(item, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    targets(&dashboard["panels"], &mut out);
    out
}

/// The metric of each `label_values(METRIC, label)` query of the dashboard's variables, as
/// an expression.
fn variable_queries(dashboard: &Json) -> Vec<String> {
    let variables = dashboard["templating"]["list"].as_array().unwrap();
    variables
        .iter()
        .filter(|variable| variable["type"] == "query")
        .map(|variable| {
            let query = variable["query"]["query"]
                .as_str()
                .or_else(|| variable["query"].as_str())
                .unwrap();
            query
                .strip_prefix("label_values(")
                .and_then(|rest| rest.split_once(','))
                .unwrap_or_else(|| {
                    panic!("variable query {query:?} is not label_values(METRIC, LABEL)")
                })
                .0
                .to_owned()
        })
        .collect()
}

/// Every PromQL expression of the dashboard: panels' and variables'.
fn dashboard_queries(dashboard: &Json) -> Vec<String> {
    let mut queries = panel_queries(dashboard);
    queries.extend(variable_queries(dashboard));
    queries
}

fn dashboard() -> Json {
    serde_json::from_str(&read("helm/sigil/files/dashboards/sigil.json")).unwrap()
}

/// The alerting rules of `alerts.yaml`, as YAML mappings.
fn alert_rules() -> Vec<serde_yaml::Value> {
    let rules: serde_yaml::Value =
        serde_yaml::from_str(&read("helm/sigil/files/alerts.yaml")).unwrap();
    rules["groups"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|group| group["rules"].as_sequence().unwrap().iter().cloned())
        .collect()
}

fn used_names() -> (BTreeSet<String>, BTreeSet<String>) {
    let dashboard: BTreeSet<String> = dashboard_queries(&dashboard())
        .iter()
        .flat_map(|expr| metric_names(expr))
        .collect();
    let alerts: BTreeSet<String> = alert_rules()
        .iter()
        .flat_map(|rule| metric_names(rule["expr"].as_str().unwrap()))
        .collect();
    (dashboard, alerts)
}

/// The names of the samples in a text exposition (histograms as `_bucket`, `_sum`, `_count`,
/// as PromQL selects them).
fn served_names(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| line.split(['{', ' ']).next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn names_are_extracted_from_promql_and_nothing_else() {
    let expr = r#"histogram_quantile(0.99, sum by (namespace, le) (rate(sigil_a_bucket{endpoint="/x", le!="{oops}"}[$__rate_interval])))
        / on (namespace) group_left (pod) max without (instance) (sigil_b offset 5m)
        and ignoring(job) sigil_c:ratio > bool 0.5e3 unless time() - ${x} * sigil_d[5m:1m]
        or label_replace(sigil_e, "dst", "$1", "src", "(.*)")"#;
    let names: Vec<String> = metric_names(expr).into_iter().collect();
    assert_eq!(
        names,
        [
            "sigil_a_bucket",
            "sigil_b",
            "sigil_c:ratio",
            "sigil_d",
            "sigil_e"
        ]
    );
}

/// The extraction found what the dashboard and alerts are about: a sensible number of names,
/// each one a Sigil or a listed Kubernetes series (a label or function name leaking through
/// would show up here), and every listed Kubernetes series is used.
#[test]
fn the_dashboard_and_alerts_query_sigil_and_listed_kubernetes_series() {
    let (dashboard, alerts) = used_names();
    assert!(dashboard.len() >= 25, "{dashboard:?}");
    assert!(alerts.len() >= 12, "{alerts:?}");
    let all: BTreeSet<&String> = dashboard.iter().chain(&alerts).collect();
    for name in &all {
        assert!(
            name.starts_with("sigil_") || KUBERNETES_SERIES.contains(&name.as_str()),
            "{name} is neither a Sigil series nor a listed Kubernetes one"
        );
    }
    for listed in KUBERNETES_SERIES {
        assert!(
            all.iter().any(|name| name == listed),
            "{listed} is listed but unused"
        );
    }
}

#[test]
fn the_dashboard_has_a_datasource_and_namespace_variable_and_is_linked_from_deploy() {
    let dashboard = dashboard();
    let variables = dashboard["templating"]["list"].as_array().unwrap();
    let variable = |name: &str| variables.iter().find(|v| v["name"] == name).cloned();
    assert_eq!(variable("datasource").unwrap()["type"], "datasource");
    assert_eq!(variable("namespace").unwrap()["type"], "query");
    let queries = panel_queries(&dashboard);
    assert!(queries.len() >= 30, "{queries:?}");
    assert_eq!(variable_queries(&dashboard).len(), 1);
    for expr in &queries {
        assert!(
            expr.contains(r#"namespace="$namespace""#),
            "not narrowed to the namespace: {expr}"
        );
    }
    // Panels and targets query the chosen data source, never one fixed at export.
    fn datasources(value: &Json, out: &mut Vec<Json>) {
        match value {
            Json::Object(map) => {
                if let Some(source) = map.get("datasource") {
                    out.push(source.clone());
                }
                map.values().for_each(|inner| datasources(inner, out));
            }
            Json::Array(items) => items.iter().for_each(|item| datasources(item, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    datasources(&dashboard["panels"], &mut found);
    assert!(!found.is_empty());
    for source in found {
        assert_eq!(source["uid"], "${datasource}", "{source}");
    }
    assert_eq!(
        read("deploy/grafana/sigil.json"),
        read("helm/sigil/files/dashboards/sigil.json")
    );
}

#[test]
fn every_alert_has_a_severity_a_summary_a_description_and_a_runbook() {
    let runbook = read("deploy/KUBERNETES.md");
    let rules = alert_rules();
    assert!(rules.len() >= 12, "{rules:?}");
    for rule in rules {
        let name = rule["alert"].as_str().expect("alerting rules only");
        let severity = rule["labels"]["severity"].as_str().unwrap_or_default();
        assert!(
            matches!(severity, "critical" | "warning"),
            "{name}: severity {severity:?}"
        );
        for annotation in ["summary", "description"] {
            assert!(
                rule["annotations"][annotation]
                    .as_str()
                    .is_some_and(|text| text.len() > 20),
                "{name}: no {annotation}"
            );
        }
        let url = rule["annotations"]["runbook_url"]
            .as_str()
            .unwrap_or_default();
        let anchor = name.to_ascii_lowercase();
        assert_eq!(
            url,
            format!("https://github.com/sigil-auth/sigil/blob/main/deploy/KUBERNETES.md#{anchor}"),
            "{name}"
        );
        assert!(
            runbook.lines().any(|line| line == format!("### {name}")),
            "{name}: no `### {name}` runbook in deploy/KUBERNETES.md"
        );
    }
}

fn promtool(args: &[&str]) {
    let output = Command::new("promtool")
        .args(args)
        .current_dir(repository())
        .output()
        .expect("promtool is needed for this test: run `make tools` (make test does)");
    assert!(
        output.status.success(),
        "promtool {args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn promtool_checks_the_rules_and_their_unit_tests_pass() {
    promtool(&["check", "rules", "helm/sigil/files/alerts.yaml"]);
    promtool(&["test", "rules", "deploy/prometheus/alerts.test.yaml"]);
}

/// Every panel's query parses as PromQL: promtool checks them as recording rules, with the
/// dashboard's variables replaced by values Grafana would put there.
#[test]
fn every_dashboard_query_is_valid_promql() {
    let queries = dashboard_queries(&dashboard());
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (index, expr) in queries.iter().enumerate() {
        let expr = expr
            .replace("$__rate_interval", "2m")
            .replace("$namespace", "sigil");
        assert!(!expr.contains('$'), "an unknown variable in {expr}");
        rules.push_str(&format!(
            "      - record: dashboard:query_{index}\n        expr: {}\n",
            serde_json::to_string(&expr).unwrap()
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dashboard-queries.yaml");
    std::fs::write(&path, rules).unwrap();
    promtool(&["check", "rules", path.to_str().unwrap()]);
}

/// Drives what makes a token pod's labelled series appear: failed and throttled sign-ins, a
/// sign-in and code redemption, a refused client, introspection and revocation.
async fn traffic(pod: &SigilDev) {
    let token_url = pod.url("/connect/token");
    let mut browser = Browser::across(POD_ISSUER, &[&pod.base_url]).unwrap();
    let mut page = open(&mut browser, &Authorize::new(WEB, WEB_SCOPES)).await;
    let guess = User {
        password: "not-alice-password",
        ..ALICE
    };
    // Past the free failures per account (5 by default): the last attempts are throttled.
    for _ in 0..7 {
        page = log_in(&mut browser, &page, &guess).await;
    }
    let mut browser = Browser::across(POD_ISSUER, &[&pod.base_url]).unwrap();
    let tokens = sign_in_and_redeem(
        &mut browser,
        &Authorize::new(WEB, WEB_SCOPES),
        &sigil_e2e::signin::BOB,
        &token_url,
    )
    .await;
    let access = field(&tokens, "access_token").to_owned();
    let refresh = field(&tokens, "refresh_token").to_owned();
    assert!(is_active(&pod.url("/connect/introspect"), WEB, &access).await);
    let refused = post_form(
        &token_url,
        Some(&basic("web", "wrong-secret")),
        "grant_type=refresh_token&refresh_token=x",
    )
    .await
    .unwrap();
    assert_eq!(refused.status, 401);
    let revoked = post_form(
        &pod.url("/connect/revocation"),
        Some(&basic("web", CLIENT_SECRET)),
        &form(&[("token", &refresh)]),
    )
    .await
    .unwrap();
    assert_eq!(revoked.status, 200);
}

#[tokio::test]
async fn every_metric_the_dashboard_and_alerts_use_is_served() {
    let (dashboard, alerts) = used_names();
    let wanted: BTreeSet<String> = dashboard
        .union(&alerts)
        .filter(|name| !KUBERNETES_SERIES.contains(&name.as_str()))
        .cloned()
        .collect();

    let cluster = StoreCluster::start(3).await.unwrap();
    let config = deployment_config(&cluster, "signin.yaml", "");
    let pod = SigilDev::start_pod(&cluster.dir("pod"), &config, &cluster.endpoints())
        .await
        .unwrap();
    traffic(&pod).await;

    // The leader's per-peer series appear once it has heard from its followers: scrape until
    // nothing is missing, for a while.
    let deadline = Instant::now() + Duration::from_secs(20);
    let (served, missing) = loop {
        let mut served = served_names(&metrics_text(&pod.base_url).await.unwrap());
        for node in &cluster.nodes {
            served.extend(served_names(&metrics_text(&node.url).await.unwrap()));
        }
        let missing: BTreeSet<String> = wanted
            .iter()
            .filter(|name| !served.contains(*name))
            .cloned()
            .collect();
        if missing.is_empty() || Instant::now() > deadline {
            break (served, missing);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(
        missing.is_empty(),
        "queried by the dashboard or alerts but not served: {missing:?}\nserved: {served:?}"
    );
}
