//! Parsing a static peer list: `1=http://10.0.0.1:7001,2=http://10.0.0.2:7001`.

use crate::types::NodeId;
use std::collections::BTreeMap;

/// Why a peer list could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("peer list: {0}")]
pub struct PeersError(String);

/// Parses `ID=URL[,ID=URL…]`. Ids must be unique; URLs must start with `http://` or
/// `https://`.
pub fn parse_peers(list: &str) -> Result<BTreeMap<NodeId, String>, PeersError> {
    let mut peers = BTreeMap::new();
    for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (id, url) = entry
            .split_once('=')
            .ok_or_else(|| PeersError(format!("want ID=URL, got {entry:?}")))?;
        let id: NodeId = id
            .trim()
            .parse()
            .map_err(|_| PeersError(format!("bad node id in {entry:?}")))?;
        let url = url.trim();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(PeersError(format!(
                "peer {id}: URL must start with http:// or https://"
            )));
        }
        if peers
            .insert(id, url.trim_end_matches('/').to_owned())
            .is_some()
        {
            return Err(PeersError(format!("node {id} is listed twice")));
        }
    }
    Ok(peers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_list() {
        let peers = parse_peers("2=http://b:7001/, 1=http://a:7001").unwrap();
        assert_eq!(
            peers.into_iter().collect::<Vec<_>>(),
            vec![
                (1, "http://a:7001".to_owned()),
                (2, "http://b:7001".to_owned())
            ]
        );
        assert!(parse_peers("").unwrap().is_empty());
    }

    #[test]
    fn rejects_malformed_lists() {
        for bad in ["1", "x=http://a", "1=a:7001", "1=http://a,1=http://b"] {
            assert!(parse_peers(bad).is_err(), "{bad}");
        }
    }
}
