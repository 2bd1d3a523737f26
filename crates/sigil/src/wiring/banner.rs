//! The start-up banner on standard error. Test harnesses parse its `Listening on` line.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

/// What the start-up banner reports.
pub struct Summary {
    /// The bound address.
    pub listen: SocketAddr,
    /// The operations listener's bound address, if it has its own.
    pub ops_listen: Option<SocketAddr>,
    /// The issuer identifier.
    pub issuer: String,
    /// The configuration file.
    pub config_path: PathBuf,
    /// Where grants are kept, in words.
    pub store: String,
    /// The signing algorithm.
    pub algorithm: String,
    /// The active key's id.
    pub kid: String,
}

impl Summary {
    /// The banner: a title line, then `Listening on   http://ADDR` and the other facts.
    pub fn banner(&self, title: &str) -> String {
        let issuer = &self.issuer;
        let mut text = format!("\n{title}\n\n  Listening on   http://{}\n", self.listen);
        if let Some(ops) = self.ops_listen {
            // Writing to a String cannot fail.
            let _ = writeln!(
                text,
                "  Operations     http://{ops} (/metrics, /healthz, /readyz)"
            );
        }
        // Writing to a String cannot fail.
        let _ = write!(
            text,
            "  Issuer         {issuer}\
             \n  Discovery      {issuer}/.well-known/openid-configuration\
             \n  Token endpoint {issuer}/connect/token\
             \n  Config         {config}\
             \n  Signing        {alg}, kid {kid}\
             \n  Grant store    {store}\n",
            config = self.config_path.display(),
            alg = self.algorithm,
            kid = self.kid,
            store = self.store,
        );
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_banner_has_the_line_harnesses_parse() {
        let summary = Summary {
            listen: "127.0.0.1:4242".parse().unwrap(),
            ops_listen: Some("127.0.0.1:9090".parse().unwrap()),
            issuer: "http://127.0.0.1:4242".to_owned(),
            config_path: PathBuf::from("sigil.yaml"),
            store: "embedded".to_owned(),
            algorithm: "RS256".to_owned(),
            kid: "k1".to_owned(),
        };
        let banner = summary.banner("Sigil is running.");
        assert!(
            banner
                .lines()
                .any(|l| l == "  Listening on   http://127.0.0.1:4242")
        );
        assert!(banner.contains("Grant store    embedded"));
        assert!(banner.contains("Operations     http://127.0.0.1:9090"));
    }
}
