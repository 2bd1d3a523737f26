//! Deriving a node's id and peers in a Kubernetes StatefulSet.
//!
//! Pods of a StatefulSet named `NAME` are `NAME-0`, `NAME-1`, …, reachable through the
//! headless service `SERVICE` as `NAME-i.SERVICE`. The node id is the pod's ordinal (the
//! number after the last `-` of the hostname); the peers are `http://NAME-i.SERVICE:PORT` for
//! every ordinal below `REPLICAS`. Written as pure functions so the derivation is testable.

use crate::types::NodeId;
use std::collections::BTreeMap;

/// A StatefulSet's shape, as given by `NAME:REPLICAS:SERVICE:PORT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatefulSet {
    /// The StatefulSet's name (the pods' hostname prefix).
    pub name: String,
    /// How many replicas it has.
    pub replicas: u64,
    /// The headless service that gives each pod a DNS name.
    pub service: String,
    /// The port the store listens on.
    pub port: u16,
}

/// Why a StatefulSet description or hostname could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("statefulset: {0}")]
pub struct StatefulSetError(String);

impl std::str::FromStr for StatefulSet {
    type Err = StatefulSetError;

    /// Parses `NAME:REPLICAS:SERVICE:PORT`, e.g. `sigil-store:3:sigil-store:7001`.
    fn from_str(spec: &str) -> Result<Self, StatefulSetError> {
        let parts: Vec<&str> = spec.split(':').collect();
        let [name, replicas, service, port] = parts.as_slice() else {
            return Err(StatefulSetError(format!(
                "want NAME:REPLICAS:SERVICE:PORT, got {spec:?}"
            )));
        };
        if name.is_empty() || service.is_empty() {
            return Err(StatefulSetError(
                "name and service must not be empty".into(),
            ));
        }
        let replicas: u64 = replicas
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| StatefulSetError(format!("bad replica count {replicas:?}")))?;
        let port = port
            .parse()
            .map_err(|_| StatefulSetError(format!("bad port {port:?}")))?;
        Ok(StatefulSet {
            name: (*name).to_owned(),
            replicas,
            service: (*service).to_owned(),
            port,
        })
    }
}

impl StatefulSet {
    /// The node id of the pod with `hostname` (`NAME-2` → 2; a fully qualified name is cut at
    /// the first dot). The hostname must belong to this StatefulSet and its ordinal must be
    /// below the replica count.
    pub fn node_id(&self, hostname: &str) -> Result<NodeId, StatefulSetError> {
        let short = hostname.split('.').next().unwrap_or(hostname);
        let ordinal = short
            .strip_prefix(self.name.as_str())
            .and_then(|rest| rest.strip_prefix('-'))
            .ok_or_else(|| {
                StatefulSetError(format!(
                    "hostname {hostname:?} is not a pod of {}",
                    self.name
                ))
            })?;
        let id: NodeId = ordinal
            .parse()
            .map_err(|_| StatefulSetError(format!("no ordinal in hostname {hostname:?}")))?;
        if id >= self.replicas {
            return Err(StatefulSetError(format!(
                "ordinal {id} is not below the replica count {}",
                self.replicas
            )));
        }
        Ok(id)
    }

    /// Every pod's id and URL.
    pub fn peers(&self) -> BTreeMap<NodeId, String> {
        (0..self.replicas)
            .map(|i| {
                let url = format!("http://{}-{i}.{}:{}", self.name, self.service, self.port);
                (i, url)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> StatefulSet {
        "sigil-store:3:sigil-store-headless:7001".parse().unwrap()
    }

    #[test]
    fn parses_the_description() {
        assert_eq!(
            set(),
            StatefulSet {
                name: "sigil-store".into(),
                replicas: 3,
                service: "sigil-store-headless".into(),
                port: 7001,
            }
        );
        for bad in [
            "a:3:b",
            "a:0:b:1",
            "a:x:b:1",
            ":3:b:1",
            "a:3:b:99999",
            "a:3:b:1:2",
        ] {
            assert!(bad.parse::<StatefulSet>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_id_is_the_hostname_ordinal() {
        assert_eq!(set().node_id("sigil-store-2").unwrap(), 2);
        assert_eq!(
            set()
                .node_id("sigil-store-0.sigil-store-headless.ns.svc")
                .unwrap(),
            0
        );
        assert!(set().node_id("sigil-store-3").is_err());
        assert!(set().node_id("other-1").is_err());
        assert!(set().node_id("sigil-store").is_err());
        assert!(set().node_id("sigil-store-x").is_err());
    }

    #[test]
    fn peers_are_every_pod() {
        let peers = set().peers();
        assert_eq!(peers.len(), 3);
        assert_eq!(
            peers.get(&2).map(String::as_str),
            Some("http://sigil-store-2.sigil-store-headless:7001")
        );
        assert_eq!(peers.keys().copied().collect::<Vec<_>>(), vec![0, 1, 2]);
    }
}
