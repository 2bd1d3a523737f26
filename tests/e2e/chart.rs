//! The Helm chart (`helm/sigil`): `helm lint --strict`, `helm template` for every value set in
//! `helm/sigil/ci/` validated with `kubernetes-validate --strict` for every Kubernetes version
//! from 1.31 that the installed validator knows, value files the schema must reject
//! (`tests/chart/`), and the properties of the rendered objects an operator relies on, read
//! from the YAML: the store's shape, the pods' security, RBAC, hooks, drain, monitoring.
//!
//! No cluster is reachable here; helm and kubernetes-validate are installed by `make tools`
//! (`.tools/bin/helm`, `.venv/bin/kubernetes-validate`). A missing tool fails the test.

use serde::Deserialize as _;
use serde_yaml::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const RELEASE: &str = "r";
const NAMESPACE: &str = "identity";
/// The value sets the issue names, and more; each must render and validate.
const VALUE_SETS: [&str; 5] = [
    "default-values.yaml",
    "kubernetes-keys-values.yaml",
    "azure-values.yaml",
    "full-values.yaml",
    "file-keys-values.yaml",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn chart() -> PathBuf {
    root().join("helm/sigil")
}

fn tool(relative: &str) -> PathBuf {
    let path = root().join(relative);
    assert!(
        path.exists(),
        "{} is missing: run `make tools`",
        path.display()
    );
    path
}

fn helm() -> Command {
    Command::new(tool(".tools/bin/helm"))
}

/// `helm template` with value files (`ci/…` or `tests/chart/…`, from the chart or the
/// repository root) and `--set` pairs; Err holds helm's stderr.
fn render(files: &[&str], sets: &[&str]) -> Result<String, String> {
    let mut command = helm();
    command
        .args(["template", RELEASE])
        .arg(chart())
        .args(["--namespace", NAMESPACE]);
    for file in files {
        let in_chart = chart().join("ci").join(file);
        let path = if in_chart.exists() {
            in_chart
        } else {
            root().join(file)
        };
        command.arg("-f").arg(path);
    }
    for set in sets {
        command.args(["--set", set]);
    }
    let output = command.output().unwrap();
    if output.status.success() {
        Ok(String::from_utf8(output.stdout).unwrap())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// The rendered objects. serde_yaml refuses duplicate keys, which the API server would
/// silently collapse.
fn objects(text: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(text)
        .map(|document| Value::deserialize(document).unwrap_or_else(|e| panic!("{e}")))
        .filter(|object| !object.is_null())
        .collect()
}

fn rendered(files: &[&str], sets: &[&str]) -> Vec<Value> {
    objects(&render(files, sets).unwrap_or_else(|e| panic!("{files:?} {sets:?}: {e}")))
}

fn kind_of(object: &Value) -> &str {
    object["kind"].as_str().unwrap_or_default()
}

fn name_of(object: &Value) -> &str {
    object["metadata"]["name"].as_str().unwrap_or_default()
}

fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|object| kind_of(object) == kind && name_of(object) == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn all<'a>(objects: &'a [Value], kind: &str) -> Vec<&'a Value> {
    objects
        .iter()
        .filter(|object| kind_of(object) == kind)
        .collect()
}

/// Every pod spec: Deployments, StatefulSets, Jobs, CronJobs and bare Pods.
fn pod_specs(objects: &[Value]) -> Vec<(String, &Value)> {
    objects
        .iter()
        .filter_map(|object| {
            let spec = match kind_of(object) {
                "Deployment" | "StatefulSet" | "Job" => &object["spec"]["template"]["spec"],
                "CronJob" => &object["spec"]["jobTemplate"]["spec"]["template"]["spec"],
                "Pod" => &object["spec"],
                _ => return None,
            };
            Some((format!("{} {}", kind_of(object), name_of(object)), spec))
        })
        .collect()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_sequence()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The argument after `flag` in a container's args.
fn arg_after(container: &Value, flag: &str) -> String {
    let args = strings(&container["args"]);
    let at = args
        .iter()
        .position(|arg| arg == flag)
        .unwrap_or_else(|| panic!("no {flag} in {args:?}"));
    args[at + 1].clone()
}

/// Whether `labels` has every pair of `selector`.
fn selects(selector: &Value, labels: &Value) -> bool {
    selector
        .as_mapping()
        .is_some_and(|pairs| pairs.iter().all(|(key, value)| &labels[key] == value))
}

/// sigil.yaml as rendered into the chart's ConfigMap.
fn sigil_yaml(objects: &[Value]) -> Value {
    let config = find(objects, "ConfigMap", "r-sigil-config");
    serde_yaml::from_str(config["data"]["sigil.yaml"].as_str().unwrap()).unwrap()
}

#[test]
fn helm_lint_strict_is_clean_for_every_value_set() {
    for values in [None].into_iter().chain(VALUE_SETS.map(Some)) {
        let mut command = helm();
        command.args(["lint", "--strict"]).arg(chart());
        if let Some(file) = values {
            command.arg("-f").arg(chart().join("ci").join(file));
        }
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "helm lint --strict {values:?}:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// The Kubernetes versions from 1.31 on that the installed kubernetes-validate knows.
fn kubernetes_versions() -> Vec<String> {
    let output = Command::new(tool(".venv/bin/python"))
        .args([
            "-c",
            "import kubernetes_validate.utils as u; print(' '.join(sorted(set(u.all_versions()))))",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let mut versions: Vec<(u32, String)> = String::from_utf8(output.stdout)
        .unwrap()
        .split_whitespace()
        .filter_map(|version| {
            let minor: u32 = version
                .strip_prefix("1.")?
                .split('.')
                .next()?
                .parse()
                .ok()?;
            (minor >= 31).then(|| (minor, version.to_owned()))
        })
        .collect();
    versions.sort();
    versions.into_iter().map(|(_, version)| version).collect()
}

#[test]
fn every_value_set_validates_strictly_for_each_supported_kubernetes_version() {
    let versions = kubernetes_versions();
    for required in ["1.31.0", "1.32.0", "1.33.0"] {
        assert!(versions.iter().any(|v| v == required), "{versions:?}");
    }
    let on_disk: BTreeSet<String> = std::fs::read_dir(chart().join("ci"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        on_disk,
        VALUE_SETS.iter().map(|s| s.to_string()).collect(),
        "every ci/ value set is checked here"
    );
    let temp = tempfile::tempdir().unwrap();
    let manifests: Vec<PathBuf> = VALUE_SETS
        .iter()
        .map(|values| {
            let manifest = temp.path().join(values);
            std::fs::write(&manifest, render(&[values], &[]).unwrap()).unwrap();
            manifest
        })
        .collect();
    for version in &versions {
        // One run per version for every value set: the validator reports the file of each
        // failure.
        let output = Command::new(tool(".venv/bin/kubernetes-validate"))
            .args(["--kubernetes-version", version, "--strict", "--quiet"])
            .args(&manifests)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "Kubernetes {version}:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn the_schema_and_the_chart_reject_wrong_types_unknown_keys_and_other_store_sizes() {
    for (file, says) in [
        ("tests/chart/wrong-type-values.yaml", "/replicaCount"),
        (
            "tests/chart/unknown-key-values.yaml",
            "'replica' not allowed",
        ),
        (
            "tests/chart/unknown-config-key-values.yaml",
            "'source' not allowed",
        ),
        (
            "tests/chart/four-store-nodes-values.yaml",
            "/store/replicas",
        ),
    ] {
        let error = render(&[file], &[]).expect_err(file);
        assert!(error.contains(says), "{file}: {error}");
    }
    // Typos at other depths, and values only a template can check.
    for (set, says) in [
        ("metrics.serviceMonitor.enable=true", "'enable' not allowed"),
        ("keys.source=vault", "/keys/source"),
        ("store.antiAffinity=never", "/store/antiAffinity"),
        ("shutdown.drainSeconds=ten", "/shutdown/drainSeconds"),
        ("keys.source=file", "keys.file.secretName is required"),
        ("replicas=3", "'replicas' not allowed"),
    ] {
        let error = render(&[], &[set]).expect_err(set);
        assert!(error.contains(says), "{set}: {error}");
    }
    assert!(
        render(&["full-values.yaml"], &[]).is_ok(),
        "5 nodes are allowed"
    );
    // The templates refuse other store sizes on their own, for tools that skip the schema.
    let output = helm()
        .args(["template", RELEASE])
        .arg(chart())
        .args(["--skip-schema-validation", "--set", "store.replicas=4"])
        .output()
        .unwrap();
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && error.contains("must be 3 or 5"),
        "{error}"
    );
}

#[test]
fn the_store_is_a_parallel_statefulset_whose_nodes_never_share_a_host() {
    for (values, replicas) in [("default-values.yaml", 3), ("full-values.yaml", 5)] {
        let objects = rendered(&[values], &[]);
        let set = find(&objects, "StatefulSet", "r-sigil-store");
        let spec = &set["spec"];
        assert_eq!(spec["replicas"], replicas, "{values}");
        assert_eq!(spec["podManagementPolicy"], "Parallel");
        let pod = &spec["template"];
        let labels = &pod["metadata"]["labels"];
        let terms = &pod["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"];
        let term = &terms[0];
        assert_eq!(term["topologyKey"], "kubernetes.io/hostname", "{terms:?}");
        assert!(selects(&term["labelSelector"]["matchLabels"], labels));
        assert!(selects(&spec["selector"]["matchLabels"], labels));
        assert!(
            !spec["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"].is_null()
        );

        // The peers `--statefulset` derives are the pods the headless Service names.
        let container = &pod["spec"]["containers"][0];
        let statefulset = arg_after(container, "--statefulset");
        let headless = find(&objects, "Service", "r-sigil-store-nodes");
        assert_eq!(headless["spec"]["clusterIP"], "None");
        assert_eq!(headless["spec"]["publishNotReadyAddresses"], true);
        assert_eq!(spec["serviceName"], "r-sigil-store-nodes");
        assert_eq!(
            statefulset,
            format!("r-sigil-store:{replicas}:r-sigil-store-nodes:7001")
        );
        // Token pods are given every node.
        let token =
            &find(&objects, "Deployment", "r-sigil")["spec"]["template"]["spec"]["containers"][0];
        let store: Vec<String> = arg_after(token, "--store")
            .split(',')
            .map(str::to_owned)
            .collect();
        let expected: Vec<String> = (0..replicas)
            .map(|i| format!("http://r-sigil-store-{i}.r-sigil-store-nodes:7001"))
            .collect();
        assert_eq!(store, expected);

        let pdb = find(&objects, "PodDisruptionBudget", "r-sigil-store");
        assert_eq!(pdb["spec"]["maxUnavailable"], 1);
        assert!(selects(&pdb["spec"]["selector"]["matchLabels"], labels));
        // The token pods' own PDB is on by default and selects only token pods.
        let token_pdb = find(&objects, "PodDisruptionBudget", "r-sigil");
        assert!(!selects(
            &token_pdb["spec"]["selector"]["matchLabels"],
            labels
        ));
    }
}

#[test]
fn every_container_runs_non_root_on_a_read_only_root_with_no_capabilities() {
    for values in VALUE_SETS {
        let objects = rendered(&[values], &[]);
        let specs = pod_specs(&objects);
        assert!(specs.len() >= 3, "{values}: {specs:?}");
        for (what, spec) in specs {
            let pod = &spec["securityContext"];
            assert_eq!(pod["runAsNonRoot"], true, "{values} {what}");
            assert_eq!(pod["seccompProfile"]["type"], "RuntimeDefault", "{what}");
            let containers = spec["containers"].as_sequence().unwrap();
            let init = spec["initContainers"]
                .as_sequence()
                .cloned()
                .unwrap_or_default();
            for container in containers.iter().chain(&init) {
                let context = &container["securityContext"];
                let name = &container["name"];
                assert_eq!(context["runAsNonRoot"], true, "{what} {name:?}");
                assert_eq!(context["readOnlyRootFilesystem"], true, "{what} {name:?}");
                assert_eq!(
                    context["allowPrivilegeEscalation"], false,
                    "{what} {name:?}"
                );
                assert_eq!(
                    context["seccompProfile"]["type"], "RuntimeDefault",
                    "{what}"
                );
                assert_eq!(strings(&context["capabilities"]["drop"]), ["ALL"], "{what}");
                assert!(context["capabilities"]["add"].is_null(), "{what}");
            }
        }
    }
}

#[test]
fn only_pods_that_call_the_kubernetes_api_get_a_service_account_token() {
    let mounts = |values: &str| -> Vec<(String, bool)> {
        pod_specs(&rendered(&[values], &[]))
            .into_iter()
            .map(|(what, spec)| {
                let automount = spec["automountServiceAccountToken"]
                    .as_bool()
                    .unwrap_or_else(|| panic!("{what}: automountServiceAccountToken unset"));
                (what, automount)
            })
            .collect()
    };
    for (what, automount) in mounts("default-values.yaml") {
        // The kubernetes key source: token pods watch the Secret, the key jobs write it.
        let calls_api = what == "Deployment r-sigil"
            || what == "CronJob r-sigil-key-rotation"
            || what == "Job r-sigil-keys-init";
        assert_eq!(automount, calls_api, "{what}");
    }
    for values in ["azure-values.yaml", "file-keys-values.yaml"] {
        for (what, automount) in mounts(values) {
            assert!(!automount, "{values}: {what}");
        }
    }
}

#[test]
fn token_pods_only_read_the_keys_secret_and_only_the_key_jobs_write_it() {
    let objects = rendered(&["kubernetes-keys-values.yaml"], &[]);
    let secret = "sigil-signing-keys";
    assert!(
        all(&objects, "Secret").is_empty(),
        "the chart renders no Secret: keys are never replaced or deleted by helm"
    );
    let token_account =
        find(&objects, "Deployment", "r-sigil")["spec"]["template"]["spec"]["serviceAccountName"]
            .as_str()
            .unwrap()
            .to_owned();
    let writes = [
        "create",
        "update",
        "patch",
        "delete",
        "deletecollection",
        "*",
    ];
    let mut rotation_may_update = false;
    for binding in all(&objects, "RoleBinding") {
        let role = find(
            &objects,
            "Role",
            binding["roleRef"]["name"].as_str().unwrap(),
        );
        let subjects: Vec<&str> = binding["subjects"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|subject| subject["name"].as_str().unwrap())
            .collect();
        for rule in role["rules"].as_sequence().unwrap() {
            let verbs = strings(&rule["verbs"]);
            assert_eq!(
                strings(&rule["resources"]),
                ["secrets"],
                "{}",
                name_of(role)
            );
            let named = strings(&rule["resourceNames"]);
            if subjects.contains(&token_account.as_str()) {
                assert!(
                    verbs
                        .iter()
                        .all(|verb| ["get", "list", "watch"].contains(&verb.as_str())),
                    "token pods' {} may {verbs:?}",
                    name_of(role)
                );
                assert_eq!(named, [secret]);
            } else if subjects == ["r-sigil-key-rotation"] {
                assert!(
                    !verbs
                        .iter()
                        .any(|v| v != "update" && writes.contains(&v.as_str()))
                );
                assert_eq!(named, [secret], "rotation writes only the keys Secret");
                rotation_may_update |= verbs.iter().any(|v| v == "update");
            } else {
                // The install hook alone may create (Kubernetes cannot limit create by name),
                // and it exists only while the hook runs.
                assert_eq!(subjects, ["r-sigil-keys-init"], "{}", name_of(role));
                assert!(
                    role["metadata"]["annotations"]["helm.sh/hook"]
                        .as_str()
                        .unwrap()
                        .contains("pre-install")
                );
            }
        }
    }
    assert!(rotation_may_update);
    let cronjob = find(&objects, "CronJob", "r-sigil-key-rotation");
    let job = &cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    assert_eq!(job["serviceAccountName"], "r-sigil-key-rotation");
    assert_eq!(
        strings(&job["containers"][0]["args"])[..3],
        ["keys", "rotate", "--if-due"]
    );
    assert_eq!(cronjob["spec"]["concurrencyPolicy"], "Forbid");
}

#[test]
fn the_install_hook_generates_keys_only_where_missing_with_the_pods_configuration() {
    let objects = rendered(&["kubernetes-keys-values.yaml"], &[]);
    let job = find(&objects, "Job", "r-sigil-keys-init");
    let hook = job["metadata"]["annotations"]["helm.sh/hook"]
        .as_str()
        .unwrap();
    assert!(
        hook.contains("pre-install") && hook.contains("pre-upgrade"),
        "{hook}"
    );
    let container = &job["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        strings(&container["args"])[..3],
        ["keys", "generate", "--if-missing"],
        "a rerun on upgrade or sync must not fail nor add keys"
    );
    // Hooks run before the release's objects exist: the hook brings its own copy of the
    // configuration, identical to the pods'.
    let hook_config = find(&objects, "ConfigMap", "r-sigil-keys-init");
    assert_eq!(
        hook_config["data"]["sigil.yaml"],
        find(&objects, "ConfigMap", "r-sigil-config")["data"]["sigil.yaml"]
    );
    for (kind, name) in [
        ("ServiceAccount", "r-sigil-keys-init"),
        ("Role", "r-sigil-keys-init"),
        ("RoleBinding", "r-sigil-keys-init"),
        ("ConfigMap", "r-sigil-keys-init"),
    ] {
        let annotations = &find(&objects, kind, name)["metadata"]["annotations"];
        assert_eq!(
            annotations["helm.sh/hook"],
            job["metadata"]["annotations"]["helm.sh/hook"]
        );
        let weight = |object: &Value| -> i64 {
            object["helm.sh/hook-weight"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap()
        };
        assert!(
            weight(annotations) < weight(&job["metadata"]["annotations"]),
            "{kind}"
        );
    }
    // The hook mounts what the pods mount: the client secrets file is read on load.
    let mounts = |spec: &Value| -> Vec<String> {
        spec["containers"][0]["volumeMounts"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|mount| mount["mountPath"].as_str().unwrap().to_owned())
            .collect()
    };
    let pod = &find(&objects, "Deployment", "r-sigil")["spec"]["template"]["spec"];
    assert_eq!(mounts(&job["spec"]["template"]["spec"]), mounts(pod));
    assert!(mounts(pod).contains(&"/etc/sigil/secrets".to_owned()));
    // Neither the hook nor the rotation job exist for sources sigil cannot write.
    for values in ["azure-values.yaml", "file-keys-values.yaml"] {
        let objects = rendered(&[values], &[]);
        assert!(all(&objects, "Job").is_empty() && all(&objects, "CronJob").is_empty());
        assert!(all(&objects, "Role").is_empty(), "{values}");
    }
}

#[test]
fn the_config_checksum_rolls_pods_exactly_when_the_configuration_changes() {
    let checksum = |sets: &[&str]| -> Value {
        let objects = rendered(&[], sets);
        find(&objects, "Deployment", "r-sigil")["spec"]["template"]["metadata"]["annotations"]
            ["checksum/config"]
            .clone()
    };
    let base = checksum(&[]);
    assert!(base.as_str().is_some_and(|sum| sum.len() == 64), "{base:?}");
    assert_eq!(checksum(&[]), base);
    assert_eq!(
        checksum(&["replicaCount=7"]),
        base,
        "not a configuration change"
    );
    assert_ne!(checksum(&["config.sigil.signing.algorithm=ES256"]), base);
    assert_ne!(checksum(&["issuer=https://login.example.com"]), base);
    assert_ne!(checksum(&["shutdown.drainSeconds=20"]), base);
}

#[test]
fn the_grace_period_covers_the_drain_and_the_drain_outlasts_readiness() {
    for sets in [
        &[][..],
        &["shutdown.drainSeconds=30", "shutdown.timeoutSeconds=25"],
    ] {
        let objects = rendered(&[], sets);
        let pod = &find(&objects, "Deployment", "r-sigil")["spec"]["template"]["spec"];
        let config = sigil_yaml(&objects);
        let seconds = |value: &Value| -> u64 {
            value
                .as_str()
                .unwrap()
                .trim_end_matches('s')
                .parse()
                .unwrap()
        };
        let drain = seconds(&config["server"]["shutdown"]["drain"]);
        let timeout = seconds(&config["server"]["shutdown"]["timeout"]);
        let grace = pod["terminationGracePeriodSeconds"].as_u64().unwrap();
        assert!(grace > drain + timeout, "{grace} ≤ {drain} + {timeout}");
        let readiness = &pod["containers"][0]["readinessProbe"];
        let unready_after = readiness["periodSeconds"].as_u64().unwrap()
            * readiness["failureThreshold"].as_u64().unwrap();
        assert!(
            drain >= unready_after + 5,
            "drain {drain}s must outlast {unready_after}s of failed probes plus propagation"
        );
        assert_eq!(readiness["httpGet"]["path"], "/readyz");
        assert_eq!(
            pod["containers"][0]["livenessProbe"]["httpGet"]["path"],
            "/healthz"
        );
        assert!(
            pod["containers"][0]["lifecycle"].is_null(),
            "no preStop: no shell"
        );
    }
}

fn config_check(path: &Path) -> Result<String, String> {
    let output = Command::new(sigil_testkit::sigil_binary().unwrap())
        .args(["config", "check"])
        .arg(path)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if output.status.success() {
        Ok(text)
    } else {
        Err(text)
    }
}

#[test]
fn the_rendered_configuration_passes_sigil_config_check() {
    let temp = tempfile::tempdir().unwrap();
    let secrets = temp.path().join("secrets");
    std::fs::create_dir(&secrets).unwrap();
    for name in ["orders-worker", "orders-api"] {
        std::fs::write(
            secrets.join(name),
            "sha256:n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg\n",
        )
        .unwrap();
    }
    for values in [
        "default-values.yaml",
        "kubernetes-keys-values.yaml",
        "azure-values.yaml",
        "full-values.yaml",
    ] {
        let objects = rendered(&[values], &[]);
        let config = sigil_yaml(&objects);
        let text = serde_yaml::to_string(&config)
            .unwrap()
            .replace("/etc/sigil/secrets/", &format!("{}/", secrets.display()));
        let path = temp.path().join(values);
        std::fs::write(&path, text).unwrap();
        let checked = config_check(&path).unwrap_or_else(|e| panic!("{values}: {e}"));
        assert!(checked.contains(": ok"), "{values}: {checked}");
    }
    let azure = sigil_yaml(&rendered(&["azure-values.yaml"], &[]));
    let source = &azure["signing"]["source"];
    assert_eq!(source["kind"], "azure");
    assert_eq!(
        source["vault_url"],
        "https://contoso-identity.vault.azure.net"
    );
    assert_eq!(source["certificate"], "sigil-signing");
    assert_eq!(source["credential"]["type"], "workload_identity");
}

#[test]
fn azure_workload_identity_annotates_the_service_account_and_labels_the_pods() {
    let objects = rendered(&["azure-values.yaml"], &[]);
    let account = find(&objects, "ServiceAccount", "r-sigil");
    let annotations = &account["metadata"]["annotations"];
    assert_eq!(
        annotations["azure.workload.identity/client-id"],
        "00000000-1111-2222-3333-444444444444"
    );
    assert_eq!(
        annotations["azure.workload.identity/tenant-id"],
        "55555555-6666-7777-8888-999999999999"
    );
    let pod = &find(&objects, "Deployment", "r-sigil")["spec"]["template"];
    assert_eq!(pod["spec"]["serviceAccountName"], "r-sigil");
    assert_eq!(
        pod["metadata"]["labels"]["azure.workload.identity/use"],
        "true"
    );
    let default = rendered(&[], &[]);
    let pod = &find(&default, "Deployment", "r-sigil")["spec"]["template"];
    assert!(pod["metadata"]["labels"]["azure.workload.identity/use"].is_null());
}

#[test]
fn the_store_is_reachable_only_from_token_pods_peers_and_prometheus() {
    let objects = rendered(&["default-values.yaml"], &[]);
    let policy = find(&objects, "NetworkPolicy", "r-sigil-store");
    let store_pods =
        &find(&objects, "StatefulSet", "r-sigil-store")["spec"]["template"]["metadata"]["labels"];
    let token_pods =
        &find(&objects, "Deployment", "r-sigil")["spec"]["template"]["metadata"]["labels"];
    assert!(selects(
        &policy["spec"]["podSelector"]["matchLabels"],
        store_pods
    ));
    assert_eq!(strings(&policy["spec"]["policyTypes"]), ["Ingress"]);
    let rules = policy["spec"]["ingress"].as_sequence().unwrap();
    assert_eq!(rules.len(), 1);
    let from = rules[0]["from"].as_sequence().unwrap();
    assert_eq!(from.len(), 3, "{from:?}");
    assert!(selects(&from[0]["podSelector"]["matchLabels"], token_pods));
    assert!(!selects(&from[0]["podSelector"]["matchLabels"], store_pods));
    assert!(selects(&from[1]["podSelector"]["matchLabels"], store_pods));
    assert_eq!(
        from[2]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"], "monitoring",
        "Prometheus, from its own namespace only"
    );
    for peer in from {
        let pods = &peer["podSelector"];
        assert!(
            peer["namespaceSelector"].is_mapping() || pods["matchLabels"].is_mapping(),
            "no rule admits every pod: {peer:?}"
        );
    }
    // The token pods' metrics port is open to Prometheus only.
    let token = find(&objects, "NetworkPolicy", "r-sigil");
    let ops = token["spec"]["ingress"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|rule| rule["ports"][0]["port"] == "ops")
        .unwrap();
    assert!(ops["from"][0]["namespaceSelector"].is_mapping());
}

#[test]
fn monitoring_ships_the_rule_file_the_dashboard_and_monitors_that_find_the_metrics() {
    let objects = rendered(&["full-values.yaml"], &[]);
    for monitor in all(&objects, "ServiceMonitor") {
        let selector = &monitor["spec"]["selector"]["matchLabels"];
        let port = monitor["spec"]["endpoints"][0]["port"].as_str().unwrap();
        let services: Vec<&Value> = all(&objects, "Service")
            .into_iter()
            .filter(|service| selects(selector, &service["metadata"]["labels"]))
            .collect();
        assert_eq!(services.len(), 1, "{}: {services:?}", name_of(monitor));
        let service = services[0];
        assert!(
            service["spec"]["ports"]
                .as_sequence()
                .unwrap()
                .iter()
                .any(|p| p["name"] == port),
            "{} scrapes port {port}",
            name_of(monitor)
        );
        assert_eq!(
            monitor["metadata"]["labels"]["release"],
            "kube-prometheus-stack"
        );
        // Alerts select targets by a job name that does not depend on the release name.
        let job = &monitor["spec"]["endpoints"][0]["relabelings"][0];
        assert_eq!(job["targetLabel"], "job");
        let expected = if name_of(monitor).ends_with("-store") {
            "sigil-store"
        } else {
            "sigil"
        };
        assert_eq!(job["replacement"], expected);
        // Through a headless Service that lists every pod, ready or not.
        assert_eq!(service["spec"]["clusterIP"], "None", "{}", name_of(service));
        let pods = &service["spec"]["selector"];
        let workload = if name_of(monitor).ends_with("-store") {
            find(&objects, "StatefulSet", "r-sigil-store")
        } else {
            find(&objects, "Deployment", "r-sigil")
        };
        assert!(selects(
            pods,
            &workload["spec"]["template"]["metadata"]["labels"]
        ));
    }
    assert_eq!(all(&objects, "ServiceMonitor").len(), 2);
    // The Ingress never routes to the metrics port.
    let ingress = find(&objects, "Ingress", "r-sigil");
    assert_eq!(
        ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"]["name"],
        "http"
    );

    let rule_file: Value =
        serde_yaml::from_str(&std::fs::read_to_string(chart().join("files/alerts.yaml")).unwrap())
            .unwrap();
    let rule = find(&objects, "PrometheusRule", "r-sigil");
    assert_eq!(rule["spec"]["groups"], rule_file["groups"]);
    assert!(!rule_file["groups"].as_sequence().unwrap().is_empty());

    let dashboard = find(&objects, "ConfigMap", "r-sigil-dashboard");
    assert_eq!(dashboard["metadata"]["labels"]["grafana_dashboard"], "1");
    assert_eq!(
        dashboard["metadata"]["annotations"]["grafana_folder"],
        "Identity"
    );
    let shipped: serde_json::Value =
        serde_json::from_str(dashboard["data"]["sigil.json"].as_str().unwrap()).unwrap();
    let file: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(chart().join("files/dashboards/sigil.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(shipped, file);

    let defaults = rendered(&[], &[]);
    for kind in ["ServiceMonitor", "PrometheusRule", "Ingress", "HTTPRoute"] {
        assert!(all(&defaults, kind).is_empty(), "{kind} is off by default");
    }
}

#[test]
fn the_helm_test_runs_sigil_smoke_against_the_issuer() {
    let objects = rendered(&["kubernetes-keys-values.yaml"], &[]);
    let pod = find(&objects, "Pod", "r-sigil-smoke");
    assert_eq!(pod["metadata"]["annotations"]["helm.sh/hook"], "test");
    let container = &pod["spec"]["containers"][0];
    assert_eq!(strings(&container["args"])[0], "smoke");
    assert_eq!(
        arg_after(container, "--issuer"),
        "https://login.example.com"
    );
    assert_eq!(
        arg_after(container, "--url"),
        "http://r-sigil:80",
        "through the Service"
    );
    assert_eq!(arg_after(container, "--client-id"), "orders-worker");
    let file = arg_after(container, "--client-secret-file");
    let mount = container["volumeMounts"][0]["mountPath"].as_str().unwrap();
    assert!(file.starts_with(mount), "{file} under {mount}");
    // The issuer is every pod's too.
    let token =
        &find(&objects, "Deployment", "r-sigil")["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(arg_after(token, "--issuer"), "https://login.example.com");
    assert_eq!(
        sigil_yaml(&objects)["server"]["issuer"],
        "https://login.example.com"
    );
}

#[test]
fn the_default_image_tag_is_the_version_of_this_build() {
    let chart: Value =
        serde_yaml::from_str(&std::fs::read_to_string(chart().join("Chart.yaml")).unwrap())
            .unwrap();
    let cargo = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let version = cargo
        .lines()
        .find_map(|line| line.strip_prefix("version = "))
        .unwrap()
        .trim_matches('"');
    assert_eq!(chart["appVersion"], version, "Chart.yaml appVersion");
    let objects = rendered(&[], &[]);
    let image = &find(&objects, "Deployment", "r-sigil")["spec"]["template"]["spec"]["containers"]
        [0]["image"];
    assert_eq!(image.as_str().unwrap(), format!("sigil:{version}"));
    let digest = format!("sha256:{}", "ab".repeat(32));
    let pinned = rendered(&[], &[&format!("image.digest={digest}")]);
    let image = &find(&pinned, "StatefulSet", "r-sigil-store")["spec"]["template"]["spec"]["containers"]
        [0]["image"];
    assert_eq!(image.as_str().unwrap(), format!("sigil@{digest}"));
}
