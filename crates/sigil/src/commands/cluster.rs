//! `sigil cluster status|add|remove|snapshot`: the operator's view of a grant store cluster,
//! over the `ClusterAdmin` gRPC service of its nodes.
//!
//! Status is answered, and a snapshot built, by the first node that responds (each node
//! snapshots and compacts its own log). Membership changes must reach the leader: a follower
//! answers UNAVAILABLE naming the leader, and the request is sent there.

use crate::cli::{ClusterCommand, ClusterTarget};
use anyhow::{Context as _, anyhow, bail};
use serde_json::json;
use sigil_store_proto::cluster_admin_client::ClusterAdminClient;
use sigil_store_proto::{
    AddMemberRequest, LEADER_METADATA_KEY, Member, MembershipResponse, RemoveMemberRequest,
    StatusRequest, StatusResponse, TriggerSnapshotRequest,
};
use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};

/// How long to wait for a node to connect and answer a status request.
const STATUS_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a membership change may take: a new node must catch up before it votes.
const CHANGE_TIMEOUT: Duration = Duration::from_secs(120);
/// How many leader hints to follow before giving up.
const MAX_REDIRECTS: usize = 3;

type Admin = ClusterAdminClient<Channel>;

/// Runs one `sigil cluster` subcommand.
pub fn run(command: ClusterCommand) -> anyhow::Result<ExitCode> {
    super::command_runtime()?.block_on(async move {
        match command {
            ClusterCommand::Status { target, json } => {
                let (url, status) = status(&target).await?;
                if json {
                    println!("{}", status_json(&url, &status));
                } else {
                    print!("{}", status_text(&url, &status));
                }
            }
            ClusterCommand::Add { target, id, addr } => {
                let request = AddMemberRequest { id, addr };
                let changed = on_leader(&target, CHANGE_TIMEOUT, |mut admin| {
                    let request = request.clone();
                    async move { admin.add_member(request).await }
                })
                .await?;
                println!("Node {id} added.\n{}", membership_text(&changed));
            }
            ClusterCommand::Remove { target, id } => {
                let changed = on_leader(&target, CHANGE_TIMEOUT, |mut admin| async move {
                    admin.remove_member(RemoveMemberRequest { id }).await
                })
                .await?;
                println!("Node {id} removed.\n{}", membership_text(&changed));
            }
            ClusterCommand::Snapshot { target } => {
                let url = snapshot(&target).await?;
                println!(
                    "Snapshot started on {url}; `sigil cluster status --store {url}` shows its \
                     index once built."
                );
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// A client of the node at `url`, whose calls give up after `timeout`.
async fn connect(url: &str, timeout: Duration) -> anyhow::Result<Admin> {
    let channel = Endpoint::from_shared(url.to_owned())
        .with_context(|| format!("{url} is not a URL"))?
        .connect_timeout(timeout)
        .timeout(timeout)
        .connect()
        .await
        .with_context(|| format!("connecting to {url}"))?;
    Ok(ClusterAdminClient::new(channel))
}

/// The status of the first node in `target` that answers, with its URL.
async fn status(target: &ClusterTarget) -> anyhow::Result<(String, StatusResponse)> {
    let mut failures = Vec::new();
    for url in &target.store {
        let answer = async {
            let mut admin = connect(url, STATUS_TIMEOUT).await?;
            let status = admin.status(StatusRequest {}).await?;
            anyhow::Ok(status.into_inner())
        };
        match answer.await {
            Ok(status) => return Ok((url.clone(), status)),
            Err(error) => failures.push(format!("{url}: {error:#}")),
        }
    }
    bail!("no store node answered:\n  {}", failures.join("\n  "))
}

/// Starts a snapshot on the first node in `target` that answers; returns its URL.
async fn snapshot(target: &ClusterTarget) -> anyhow::Result<String> {
    let mut failures = Vec::new();
    for url in &target.store {
        let answer = async {
            let mut admin = connect(url, STATUS_TIMEOUT).await?;
            admin.trigger_snapshot(TriggerSnapshotRequest {}).await?;
            anyhow::Ok(())
        };
        match answer.await {
            Ok(()) => return Ok(url.clone()),
            Err(error) => failures.push(format!("{url}: {error:#}")),
        }
    }
    bail!("no store node answered:\n  {}", failures.join("\n  "))
}

/// Sends a call to the leader: tries the nodes in `target` in turn and follows the leader
/// hint of a node that is not the leader.
async fn on_leader<T, F, Fut>(
    target: &ClusterTarget,
    timeout: Duration,
    call: F,
) -> anyhow::Result<T>
where
    F: Fn(Admin) -> Fut,
    Fut: Future<Output = Result<tonic::Response<T>, Status>>,
{
    let mut failures = Vec::new();
    for first in &target.store {
        let mut url = first.clone();
        for _ in 0..=MAX_REDIRECTS {
            let admin = match connect(&url, timeout).await {
                Ok(admin) => admin,
                Err(error) => {
                    failures.push(format!("{url}: {error:#}"));
                    break;
                }
            };
            match call(admin).await {
                Ok(response) => return Ok(response.into_inner()),
                Err(status) => match leader_hint(&status) {
                    Some(leader) if leader != url => url = leader,
                    _ if status.code() == Code::Unavailable => {
                        failures.push(format!("{url}: {}", status.message()));
                        break;
                    }
                    _ => bail!("{url} refused: {}", status.message()),
                },
            }
        }
    }
    Err(anyhow!(
        "no leader could be reached:\n  {}",
        failures.join("\n  ")
    ))
}

/// The leader URL a follower names in an UNAVAILABLE answer.
fn leader_hint(status: &Status) -> Option<String> {
    if status.code() != Code::Unavailable {
        return None;
    }
    status
        .metadata()
        .get(LEADER_METADATA_KEY)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

fn member_json(member: &Member) -> serde_json::Value {
    json!({ "id": member.id, "addr": member.addr, "voter": member.voter })
}

/// The status as one JSON object (field names as in the protocol, plus the node asked).
fn status_json(url: &str, status: &StatusResponse) -> serde_json::Value {
    json!({
        "asked": url,
        "node_id": status.node_id,
        "state": status.state,
        "term": status.term,
        "leader_id": status.leader_id,
        "initialized": status.initialized,
        "members": status.members.iter().map(member_json).collect::<Vec<_>>(),
        "committed_index": status.committed_index,
        "applied_index": status.applied_index,
        "last_log_index": status.last_log_index,
        "snapshot_index": status.snapshot_index,
        "replication": status.replication.iter().map(|r| json!({
            "node_id": r.node_id,
            "matched_index": r.matched_index,
            "lag": r.lag,
        })).collect::<Vec<_>>(),
    })
}

fn index(value: Option<u64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

fn status_text(url: &str, status: &StatusResponse) -> String {
    let leader = status
        .leader_id
        .map_or_else(|| "none known".to_owned(), |id| id.to_string());
    let mut text = format!(
        "Node {} ({url}): {}, term {}, leader {leader}\n\
         Log: last {}, committed {}, applied {}, snapshot {}\n",
        status.node_id,
        status.state,
        status.term,
        index(status.last_log_index),
        index(status.committed_index),
        index(status.applied_index),
        index(status.snapshot_index),
    );
    if !status.initialized {
        text.push_str("Not part of a cluster yet.\n");
    }
    text.push_str(&members_text(&status.members));
    for replication in &status.replication {
        text.push_str(&format!(
            "  replication to {}: matched {}, {} behind\n",
            replication.node_id,
            index(replication.matched_index),
            replication.lag
        ));
    }
    text
}

fn members_text(members: &[Member]) -> String {
    let mut text = String::from("Members:\n");
    for member in members {
        let role = if member.voter { "voter" } else { "learner" };
        text.push_str(&format!("  {} {} ({role})\n", member.id, member.addr));
    }
    text
}

fn membership_text(changed: &MembershipResponse) -> String {
    format!(
        "{}Membership log index: {}",
        members_text(&changed.members),
        index(changed.log_index)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::metadata::MetadataValue;

    #[test]
    fn only_an_unavailable_answer_names_the_leader() {
        let mut status = Status::unavailable("not the leader");
        status.metadata_mut().insert(
            LEADER_METADATA_KEY,
            MetadataValue::from_static("http://b:7001"),
        );
        assert_eq!(leader_hint(&status).as_deref(), Some("http://b:7001"));

        let mut refused = Status::invalid_argument("bad id");
        refused.metadata_mut().insert(
            LEADER_METADATA_KEY,
            MetadataValue::from_static("http://b:7001"),
        );
        assert_eq!(leader_hint(&refused), None);
    }

    #[test]
    fn status_json_names_the_leader() {
        let status = StatusResponse {
            node_id: 2,
            state: "Follower".into(),
            term: 4,
            leader_id: Some(1),
            initialized: true,
            members: vec![Member {
                id: 1,
                addr: "http://a:7001".into(),
                voter: true,
            }],
            ..StatusResponse::default()
        };
        let value = status_json("http://b:7001", &status);
        assert_eq!(value["leader_id"], 1);
        assert_eq!(value["members"][0]["addr"], "http://a:7001");
        assert!(status_text("http://b:7001", &status).contains("leader 1"));
    }
}
