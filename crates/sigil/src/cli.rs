//! Command-line interface. Every flag that overrides configuration also reads a `SIGIL_*`
//! environment variable.

use clap::{ArgGroup, Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Sigil: an OAuth 2.0 / OpenID Connect token service.
#[derive(Debug, Parser)]
#[command(name = "sigil", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the token service with an embedded single-node grant store and a generated,
    /// persisted signing key, for development.
    Dev(DevArgs),
    /// Run the token service against a `sigil store` cluster: the production mode, any
    /// number of replicas sharing one configuration and one set of signing keys.
    Serve(ServeArgs),
    /// Run one node of the replicated grant store (Raft over gRPC).
    Store(StoreArgs),
    /// Inspect and change a running grant store cluster.
    #[command(subcommand)]
    Cluster(ClusterCommand),
    /// Revoke grants in the store cluster: a user's or a client's refresh tokens, reference
    /// access tokens, remembered consent and sign-in sessions.
    #[command(subcommand)]
    Grants(GrantsCommand),
    /// Work with configuration files.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Make client or API secrets.
    #[command(subcommand)]
    Secret(SecretCommand),
    /// List, create and rotate the signing keys and session secrets of the configured key
    /// source (`file` or `kubernetes` sources can be written; `list` reads any source).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Check a running deployment as a client would: discovery names the expected issuer, the
    /// JWKS loads, and (with a client) a client-credentials token verifies against it. Exits
    /// non-zero on the first failure; used by the Helm chart's `helm test`.
    Smoke(SmokeArgs),
}

/// Flags of `sigil smoke`.
#[derive(Debug, Args)]
pub struct SmokeArgs {
    /// The issuer identifier the deployment must announce, exactly as in its discovery document.
    #[arg(long, env = "SIGIL_SMOKE_ISSUER")]
    pub issuer: String,
    /// Where to reach the service when that is not the issuer's address (a Kubernetes Service
    /// from inside the cluster, say `http://sigil:8080`): discovery is fetched there, and so are
    /// the JWKS and token endpoints where discovery names them under the issuer.
    #[arg(long, env = "SIGIL_SMOKE_URL")]
    pub url: Option<String>,
    /// A client allowed the client_credentials grant with `client_secret_basic`; with it a
    /// token is requested and verified.
    #[arg(long, env = "SIGIL_SMOKE_CLIENT_ID", requires = "client_secret_file")]
    pub client_id: Option<String>,
    /// File holding that client's secret (surrounding whitespace is ignored).
    #[arg(long, env = "SIGIL_SMOKE_CLIENT_SECRET_FILE", requires = "client_id")]
    pub client_secret_file: Option<PathBuf>,
    /// Scopes to request, space-separated; by default the client's own default.
    #[arg(long, env = "SIGIL_SMOKE_SCOPE", requires = "client_id")]
    pub scope: Option<String>,
    /// PEM file of extra certificate authorities to trust (besides the system's) over https.
    #[arg(long, env = "SIGIL_SMOKE_CA_FILE")]
    pub ca_file: Option<PathBuf>,
    /// Time allowed for each HTTP request (`10s`, `1m`).
    #[arg(long, env = "SIGIL_SMOKE_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub timeout: std::time::Duration,
}

/// Flags of `sigil dev`.
#[derive(Debug, Args)]
pub struct DevArgs {
    /// Configuration file; without it a demo configuration is created under the data directory.
    #[arg(long, env = "SIGIL_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "SIGIL_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Address of a separate listener for /metrics, /healthz and /readyz (then /metrics is
    /// no longer served on --listen).
    #[arg(long, env = "SIGIL_OPS_LISTEN")]
    pub ops_listen: Option<SocketAddr>,
    /// Issuer identifier; defaults to `http://<listen address>`.
    #[arg(long, env = "SIGIL_ISSUER")]
    pub issuer: Option<String>,
    /// Directory for keys and grant store data.
    #[arg(long, env = "SIGIL_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Log format.
    #[arg(long, env = "SIGIL_LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,
}

/// Flags of `sigil serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Configuration file.
    #[arg(long, env = "SIGIL_CONFIG")]
    pub config: PathBuf,
    /// Grant store nodes, comma-separated (`http://store-0:7001,http://store-1:7001`);
    /// overrides `store.endpoints` in the configuration file.
    #[arg(long, env = "SIGIL_STORE", value_delimiter = ',')]
    pub store: Vec<String>,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "SIGIL_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Address of a separate listener for /metrics, /healthz and /readyz (then /metrics is
    /// no longer served on --listen).
    #[arg(long, env = "SIGIL_OPS_LISTEN")]
    pub ops_listen: Option<SocketAddr>,
    /// Issuer identifier, the same for every replica; required here or as server.issuer.
    #[arg(long, env = "SIGIL_ISSUER")]
    pub issuer: Option<String>,
    /// Log format.
    #[arg(long, env = "SIGIL_LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,
}

/// Flags of `sigil store`.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// This node's id. With `--statefulset` it defaults to the pod's ordinal.
    #[arg(long, env = "SIGIL_STORE_ID")]
    pub id: Option<u64>,
    /// Address to listen on for gRPC and `/metrics`, `/healthz`, `/readyz`.
    #[arg(long, env = "SIGIL_STORE_LISTEN", default_value = "0.0.0.0:7001")]
    pub listen: SocketAddr,
    /// Directory for this node's log and state machine.
    #[arg(long, env = "SIGIL_STORE_DATA_DIR")]
    pub data_dir: PathBuf,
    /// Every node of the cluster, itself included: `1=http://10.0.0.1:7001,2=http://…`.
    #[arg(long, env = "SIGIL_STORE_PEERS", conflicts_with = "statefulset")]
    pub peers: Option<String>,
    /// Derive the peers (and the id) from a Kubernetes StatefulSet:
    /// `NAME:REPLICAS:HEADLESS_SERVICE:PORT`. Pods are `NAME-0` … `NAME-(REPLICAS-1)`.
    #[arg(long, env = "SIGIL_STORE_STATEFULSET")]
    pub statefulset: Option<String>,
    /// The URL other nodes and clients reach this node at; defaults to its peer entry.
    #[arg(long, env = "SIGIL_STORE_ADVERTISE")]
    pub advertise: Option<String>,
    /// Never create a new cluster: wait to be added with `sigil cluster add`.
    #[arg(long, env = "SIGIL_STORE_JOIN")]
    pub join: bool,
    /// Log format.
    #[arg(long, env = "SIGIL_LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,
}

/// `sigil cluster …`: every subcommand talks to the nodes given with `--store`.
#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// Show a node's view: leader, term, membership, log indexes, replication lag.
    Status {
        /// Store nodes to ask, comma-separated; the first that answers is shown.
        #[command(flatten)]
        target: ClusterTarget,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Add a node: it joins as a learner, catches up, then becomes a voter.
    Add {
        /// Store nodes to ask, comma-separated; the request is sent on to the leader.
        #[command(flatten)]
        target: ClusterTarget,
        /// The new node's id.
        #[arg(long)]
        id: u64,
        /// The URL the other nodes reach the new node at.
        #[arg(long)]
        addr: String,
    },
    /// Remove a node from the cluster.
    Remove {
        /// Store nodes to ask, comma-separated; the request is sent on to the leader.
        #[command(flatten)]
        target: ClusterTarget,
        /// The id of the node to remove.
        #[arg(long)]
        id: u64,
    },
    /// Build a snapshot now on one node (and compact its log).
    Snapshot {
        /// Store nodes, comma-separated; the first that answers builds the snapshot.
        #[command(flatten)]
        target: ClusterTarget,
    },
}

/// Which cluster a `sigil cluster` command talks to.
#[derive(Debug, Args)]
pub struct ClusterTarget {
    /// Store nodes, comma-separated (`http://store-0:7001,http://store-1:7001`).
    #[arg(long, env = "SIGIL_STORE", value_delimiter = ',', required = true)]
    pub store: Vec<String>,
}

/// `sigil grants …`.
#[derive(Debug, Subcommand)]
pub enum GrantsCommand {
    /// Revoke every grant of one user (`--subject`) or of one client (`--client`) at once,
    /// in the cluster every `sigil serve` replica uses. JWT access tokens already issued
    /// cannot be recalled: they stay valid until they expire.
    Revoke(RevokeArgs),
}

/// Flags of `sigil grants revoke`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("whose").required(true).args(["subject", "client"])))]
pub struct RevokeArgs {
    /// A user's subject (`sub`): their refresh tokens, reference access tokens, remembered
    /// consent and sign-in sessions, with every client.
    #[arg(long)]
    pub subject: Option<String>,
    /// A client id: every grant issued to that client, for every user.
    #[arg(long)]
    pub client: Option<String>,
    /// The configuration file whose `store` section names the cluster.
    #[arg(long, env = "SIGIL_CONFIG")]
    pub config: PathBuf,
    /// Grant store nodes, comma-separated (`http://store-0:7001,http://store-1:7001`);
    /// overrides `store.endpoints` in the configuration file.
    #[arg(long, env = "SIGIL_STORE", value_delimiter = ',')]
    pub store: Vec<String>,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable lines.
    Pretty,
}

/// `sigil config …`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate a configuration file and explain every problem.
    Check {
        /// The file.
        file: PathBuf,
    },
}

/// `sigil keys …`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Show every key and session secret with its state (pending, active, retired) now.
    List {
        #[command(flatten)]
        target: KeysTarget,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Create a signing key for each configured algorithm that has none, and a session secret
    /// if there is none (in a new deployment valid at once). Refuses if nothing is missing.
    Generate {
        #[command(flatten)]
        target: KeysTarget,
        /// Succeed without a change when nothing is missing, instead of refusing (for a job
        /// that runs on every install, upgrade or sync: it never adds or replaces a key that
        /// exists).
        #[arg(long)]
        if_missing: bool,
    },
    /// Add a new signing key per algorithm and a session secret, published now and used once
    /// the propagation period has passed; delete keys retired beyond their retention.
    Rotate {
        #[command(flatten)]
        target: KeysTarget,
        /// Add only where the newest key (or secret) is due for replacement (for a scheduled
        /// job); keys past retention are deleted either way.
        #[arg(long)]
        if_due: bool,
    },
}

/// Which key source `sigil keys` works on.
#[derive(Debug, Args)]
pub struct KeysTarget {
    /// The configuration file whose `signing` section names the source and policy.
    #[arg(long, env = "SIGIL_CONFIG")]
    pub config: PathBuf,
}

/// `sigil secret …`.
#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Generate a high-entropy secret; prints the secret and the `sha256:` value for the config.
    Generate,
    /// Hash a human-chosen secret read from standard input as argon2id.
    Hash,
}
