//! Which address a sign-in attempt comes from: the connection's peer, or — when the peer is
//! a trusted reverse proxy — the client that proxy names in `X-Forwarded-For`. Anyone can
//! send that header, so it is believed only from configured proxies, and read from the right:
//! each trusted proxy appends the address it saw, so the rightmost address that is not a
//! trusted proxy is the client; whatever lies to its left the client may have written itself.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;

/// A block of addresses, `10.0.0.0/8` or `fd00::/8`, or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressRange {
    network: IpAddr,
    prefix: u8,
}

/// Why an address range did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an IP address or a CIDR block such as 10.0.0.0/8")]
pub struct AddressRangeError(String);

impl FromStr for AddressRange {
    type Err = AddressRangeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || AddressRangeError(text.to_owned());
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = address.trim().parse().map_err(|_| invalid())?;
        let bits = match network {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        let prefix = match prefix {
            Some(prefix) => prefix.trim().parse::<u8>().map_err(|_| invalid())?,
            None => bits,
        };
        if prefix > bits {
            return Err(invalid());
        }
        Ok(Self { network, prefix })
    }
}

impl fmt::Display for AddressRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl AddressRange {
    /// True if `address` is in the range (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.network, canonical(address)) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                same_prefix(&network.octets(), &address.octets(), self.prefix)
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                same_prefix(&network.octets(), &address.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

fn same_prefix(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let mut bits = usize::from(prefix);
    for (x, y) in a.iter().zip(b) {
        if bits == 0 {
            return true;
        }
        let take = bits.min(8);
        let mask = 0xffu8 << (8 - take);
        if x & mask != y & mask {
            return false;
        }
        bits -= take;
    }
    true
}

/// IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) as the IPv4 addresses they are.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// The client's address: `peer` itself unless it is one of `trusted_proxies`; then the
/// rightmost address in `forwarded_for` (the `X-Forwarded-For` values, in order) that is not
/// a trusted proxy. An unreadable entry ends the walk at the last address known good.
pub fn client_address(
    peer: IpAddr,
    forwarded_for: &[&str],
    trusted_proxies: &[AddressRange],
) -> IpAddr {
    let trusted = |address: IpAddr| trusted_proxies.iter().any(|range| range.contains(address));
    let mut client = canonical(peer);
    if !trusted(client) {
        return client;
    }
    let hops = forwarded_for
        .iter()
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .rev();
    for hop in hops {
        let Ok(address) = hop.parse::<IpAddr>() else {
            return client;
        };
        client = canonical(address);
        if !trusted(client) {
            return client;
        }
    }
    client
}

/// What counts as one client address for throttling: an IPv4 address, or an IPv6 address's
/// /64 (one subscriber's network; its holder can use any address in it).
pub fn throttle_address(address: IpAddr) -> String {
    match canonical(address) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let mut octets = v6.octets();
            for octet in octets.iter_mut().skip(8) {
                *octet = 0;
            }
            format!("{}/64", Ipv6Addr::from(octets))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn ranges(texts: &[&str]) -> Vec<AddressRange> {
        texts
            .iter()
            .map(|t| t.parse().unwrap_or_else(|e| panic!("{e}")))
            .collect()
    }

    #[test]
    fn ranges_parse_and_contain() {
        let private = ranges(&["10.0.0.0/8", "fd00::/8", "192.0.2.7", "0.0.0.0/0"]);
        assert!(private[0].contains(ip("10.200.3.4")));
        assert!(!private[0].contains(ip("11.0.0.1")));
        assert!(private[0].contains(ip("::ffff:10.1.2.3")), "IPv4-mapped");
        assert!(private[1].contains(ip("fd12::1")));
        assert!(!private[1].contains(ip("fe80::1")));
        assert!(private[2].contains(ip("192.0.2.7")));
        assert!(!private[2].contains(ip("192.0.2.8")));
        assert!(private[3].contains(ip("203.0.113.9")));
        assert!(!private[3].contains(ip("::1")));
        assert_eq!(private[0].to_string(), "10.0.0.0/8");
        for bad in ["10.0.0.0/33", "::/129", "10.0.0", "x/8", "10.0.0.0/", ""] {
            assert!(bad.parse::<AddressRange>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxies = ranges(&["10.0.0.0/8"]);
        let client = |peer: &str, forwarded: &[&str]| client_address(ip(peer), forwarded, &proxies);
        // Not from a proxy: the header is the client's own writing.
        assert_eq!(client("203.0.113.5", &["198.51.100.1"]), ip("203.0.113.5"));
        // From the proxy: the address it appended.
        assert_eq!(client("10.0.0.2", &["198.51.100.1"]), ip("198.51.100.1"));
        // A forged entry to the left of what the proxy appended changes nothing.
        assert_eq!(
            client("10.0.0.2", &["1.2.3.4, 198.51.100.1"]),
            ip("198.51.100.1")
        );
        // Several proxies, several headers.
        assert_eq!(
            client("10.0.0.2", &["1.2.3.4", "198.51.100.1, 10.9.9.9"]),
            ip("198.51.100.1")
        );
        // Garbage where the proxy's entry should be: the proxy is the best we know.
        assert_eq!(client("10.0.0.2", &["1.2.3.4, garbage"]), ip("10.0.0.2"));
        assert_eq!(client("10.0.0.2", &[]), ip("10.0.0.2"));
        // No proxies configured: always the peer.
        assert_eq!(
            client_address(ip("10.0.0.2"), &["198.51.100.1"], &[]),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_64() {
        assert_eq!(
            throttle_address(ip("2001:db8:1:2:3:4:5:6")),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            throttle_address(ip("2001:db8:1:2:ffff::1")),
            throttle_address(ip("2001:db8:1:2::9"))
        );
        assert_eq!(throttle_address(ip("::ffff:192.0.2.1")), "192.0.2.1");
        assert_eq!(throttle_address(ip("192.0.2.1")), "192.0.2.1");
    }
}
