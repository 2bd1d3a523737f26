//! Silent partitions between real processes, each in its own network namespace.
//!
//! [`Hosts::create`] makes N network namespaces ("hosts"), each with one veth interface on a
//! bridge in the test's own namespace: the hosts reach each other through the bridge, and the
//! test process reaches every host at [`Hosts::ip`]. [`Hosts::cut`] partitions one host from
//! the other hosts by pointing their neighbour (ARP) entries for each other at a MAC address
//! nobody has. Packets are then dropped without a reset or an ICMP error, as behind a failed
//! switch: connections that were open stay open with their data unacknowledged, new ones get
//! no SYN-ACK. Unlike a proxy that closes connections, this is the partition TCP and HTTP/2
//! have to detect on their own. [`Hosts::heal`] deletes those entries. The test process keeps
//! reaching every host (the bridge's entries are not touched), so a client can still talk to a
//! node that is cut off from its peers.
//!
//! Needs root (CAP_NET_ADMIN) and `ip` from iproute2 (`make tools` installs it): without them
//! [`Hosts::create`] fails with an error that says so, it never skips. Everything created is
//! deleted on drop, and namespaces and bridges left behind by a test process that died are
//! deleted by the next [`Hosts::create`].

use anyhow::{Context as _, anyhow, bail};
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;

/// Every name this module creates starts with this; the process id follows.
const PREFIX: &str = "sgl";
/// A unicast MAC address no interface has: frames sent to it are dropped by every receiver.
const NOWHERE: &str = "02:00:00:00:00:01";
/// The interface name inside each host.
const HOST_IF: &str = "eth0";

/// N network namespaces on one bridge, torn down on drop.
pub struct Hosts {
    bridge: String,
    namespaces: Vec<String>,
    subnet: u8,
    /// The neighbour entries a cut put in place, as (namespace, address), for [`Hosts::heal`].
    cut_entries: Mutex<Vec<(String, Ipv4Addr)>>,
}

/// Runs `ip ARGS`; fails with its standard error.
fn ip(args: &[&str]) -> crate::Result<String> {
    let output = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("running `ip` (iproute2; `make tools` installs it)")?;
    if !output.status.success() {
        bail!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The process id in a name this module made (`sgl<pid>…`), if it is one.
fn owner_pid(name: &str) -> Option<u32> {
    let digits: String = name
        .strip_prefix(PREFIX)?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn process_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Deletes namespaces and bridges made by test processes that are gone.
fn remove_leftovers() {
    if let Ok(list) = ip(&["netns", "list"]) {
        for name in list
            .lines()
            .filter_map(|line| line.split_whitespace().next())
        {
            if owner_pid(name).is_some_and(|pid| !process_alive(pid)) {
                let _ = ip(&["netns", "del", name]);
            }
        }
    }
    if let Ok(list) = ip(&["-o", "link", "show", "type", "bridge"]) {
        for line in list.lines() {
            // "7: sgl1234b: <BROADCAST,…"
            let Some(name) = line.split(": ").nth(1) else {
                continue;
            };
            if owner_pid(name).is_some_and(|pid| !process_alive(pid)) {
                let _ = ip(&["link", "del", name]);
            }
        }
    }
}

/// A /24 in 10.213.0.0/16 that no interface here uses, starting from one derived from `pid`
/// so that concurrent test processes pick different ones.
fn free_subnet(pid: u32) -> crate::Result<u8> {
    let used = ip(&["-o", "-4", "addr", "show"])?;
    let start = u8::try_from(pid % 200).unwrap_or(0);
    (0..200_u8)
        .map(|offset| 20 + (start + offset) % 200)
        .find(|octet| !used.contains(&format!("10.213.{octet}.")))
        .ok_or_else(|| anyhow!("no free 10.213.x.0/24 subnet"))
}

impl Hosts {
    /// Creates `count` hosts (at most 100), reachable from the test process.
    pub fn create(count: usize) -> crate::Result<Hosts> {
        if count == 0 || count > 100 {
            bail!("between 1 and 100 hosts, not {count}");
        }
        remove_leftovers();
        let pid = std::process::id();
        let mut hosts = Hosts {
            bridge: format!("{PREFIX}{pid}b"),
            namespaces: Vec::new(),
            subnet: free_subnet(pid)?,
            cut_entries: Mutex::new(Vec::new()),
        };
        hosts.build(pid, count).map_err(|error| {
            anyhow!(
                "creating network namespaces failed ({error:#}). Silent-partition tests need \
                 root (CAP_NET_ADMIN) and iproute2's `ip`; run them as root (`make tools` \
                 installs iproute2)"
            )
        })?;
        Ok(hosts)
    }

    fn build(&mut self, pid: u32, count: usize) -> crate::Result<()> {
        let bridge = self.bridge.clone();
        let gateway = format!("10.213.{}.254/24", self.subnet);
        ip(&["link", "add", &bridge, "type", "bridge"])?;
        ip(&["addr", "add", &gateway, "dev", &bridge])?;
        ip(&["link", "set", &bridge, "up"])?;
        for index in 0..count {
            let namespace = format!("{PREFIX}{pid}n{index}");
            ip(&["netns", "add", &namespace])?;
            self.namespaces.push(namespace.clone());
            let outside = format!("{PREFIX}{pid}v{index}");
            ip(&[
                "link", "add", &outside, "type", "veth", "peer", "name", HOST_IF, "netns",
                &namespace,
            ])?;
            ip(&["link", "set", &outside, "master", &bridge, "up"])?;
            let address = format!("{}/24", self.ip(index));
            ip(&["-n", &namespace, "addr", "add", &address, "dev", HOST_IF])?;
            ip(&["-n", &namespace, "link", "set", HOST_IF, "up"])?;
            ip(&["-n", &namespace, "link", "set", "lo", "up"])?;
        }
        Ok(())
    }

    /// How many hosts there are.
    pub fn len(&self) -> usize {
        self.namespaces.len()
    }

    /// Whether there are none (never true once created).
    pub fn is_empty(&self) -> bool {
        self.namespaces.is_empty()
    }

    /// Host `index`'s address (0-based), reachable from the test process and the other hosts.
    pub fn ip(&self, index: usize) -> Ipv4Addr {
        let last = u8::try_from(index + 1).unwrap_or(u8::MAX);
        Ipv4Addr::new(10, 213, self.subnet, last)
    }

    /// A command that runs `program` inside host `index`; add its arguments.
    pub fn command(&self, index: usize, program: &Path) -> crate::Result<Command> {
        let namespace = self
            .namespaces
            .get(index)
            .ok_or_else(|| anyhow!("no host {index}"))?;
        let mut command = Command::new("ip");
        command.args(["netns", "exec", namespace]).arg(program);
        Ok(command)
    }

    /// Partitions host `index` from every other host, silently (see the module docs).
    pub fn cut(&self, index: usize) -> crate::Result<()> {
        let own = self
            .namespaces
            .get(index)
            .ok_or_else(|| anyhow!("no host {index}"))?;
        let mut entries = Vec::new();
        for (other, namespace) in self.namespaces.iter().enumerate() {
            if other != index {
                entries.push((own.clone(), self.ip(other)));
                entries.push((namespace.clone(), self.ip(index)));
            }
        }
        for (namespace, address) in &entries {
            let address = address.to_string();
            ip(&[
                "-n",
                namespace,
                "neigh",
                "replace",
                &address,
                "lladdr",
                NOWHERE,
                "nud",
                "permanent",
                "dev",
                HOST_IF,
            ])?;
        }
        self.lock_cut().extend(entries);
        Ok(())
    }

    /// Undoes every cut: the hosts resolve each other's addresses again.
    pub fn heal(&self) -> crate::Result<()> {
        let entries = std::mem::take(&mut *self.lock_cut());
        for (namespace, address) in &entries {
            let address = address.to_string();
            // Already gone if two cuts named the same pair.
            let _ = ip(&["-n", namespace, "neigh", "del", &address, "dev", HOST_IF]);
        }
        Ok(())
    }

    fn lock_cut(&self) -> std::sync::MutexGuard<'_, Vec<(String, Ipv4Addr)>> {
        self.cut_entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        // Deleting a namespace deletes its end of the veth pair, and with it the other end.
        for namespace in &self.namespaces {
            if let Err(error) = ip(&["netns", "del", namespace]) {
                eprintln!("leaving network namespace {namespace} behind: {error:#}");
            }
        }
        if let Err(error) = ip(&["link", "del", &self.bridge]) {
            eprintln!("leaving bridge {} behind: {error:#}", self.bridge);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_owning_process() {
        assert_eq!(owner_pid("sgl1234n0"), Some(1234));
        assert_eq!(owner_pid("sgl77b"), Some(77));
        assert_eq!(owner_pid("docker0"), None);
        assert_eq!(owner_pid("sglx"), None);
    }
}
