//! Where Switchyard may send requests: slot upstreams and health URLs are typed in the browser,
//! and Switchyard then calls them and shows every viewer what answered. Without a limit that
//! is a way into the network behind it (the cloud's metadata service at 169.254.169.254
//! hands out credentials). The operator sets `slot_hosts` (host names and CIDR blocks); the
//! hosts the configuration's `[[environment]]` tables name are always allowed. With no
//! `slot_hosts`, every address is allowed except those no deployment lives at: link-local
//! (the metadata services), unspecified, multicast and broadcast.

use std::net::IpAddr;

use super::FieldError;

/// Names that reach a cloud metadata service without an IP address in them.
const METADATA_NAMES: [&str; 2] = ["metadata.google.internal", "metadata"];

/// An IP block: the address and how many leading bits must match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    addr: IpAddr,
    bits: u8,
}

impl Block {
    /// `10.0.0.0/8`, `fd00::/8`, or one address.
    pub fn parse(text: &str) -> Option<Self> {
        let (addr, bits) = match text.split_once('/') {
            Some((addr, bits)) => (addr.parse::<IpAddr>().ok()?, Some(bits.parse::<u8>().ok()?)),
            None => (text.parse::<IpAddr>().ok()?, None),
        };
        let width = if addr.is_ipv4() { 32 } else { 128 };
        let bits = bits.unwrap_or(width);
        (bits <= width).then_some(Self { addr, bits })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let shift = |width: u32| width - u32::from(self.bits);
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(block), IpAddr::V4(ip)) => {
                let s = shift(32);
                s == 32 || u32::from(block) >> s == u32::from(ip) >> s
            }
            (IpAddr::V6(block), IpAddr::V6(ip)) => {
                let s = shift(128);
                s == 128 || u128::from(block) >> s == u128::from(ip) >> s
            }
            _ => false,
        }
    }
}

/// An IPv4 address written as IPv6 (`::ffff:169.254.169.254`) is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Addresses no deployment is reached at.
fn never_a_deployment(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => {
            v4.is_link_local() || v4.is_unspecified() || v4.is_multicast() || v4.is_broadcast()
        }
        IpAddr::V6(v6) => {
            v6.is_unspecified() || v6.is_multicast() || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

/// The rule (see the module documentation).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    /// Host names allowed, lowercase.
    names: Vec<String>,
    blocks: Vec<Block>,
    /// Whether the operator listed `slot_hosts`: then only what is listed is allowed.
    listed: bool,
}

impl OutboundPolicy {
    /// The policy for `slot_hosts` (`entries`), also allowing the hosts of `configured` URLs
    /// (the operator's own, from the configuration file). The error names a bad entry.
    pub fn new(entries: &[String], configured: &[&str]) -> Result<Self, String> {
        let mut policy = Self {
            listed: !entries.is_empty(),
            ..Self::default()
        };
        for entry in entries {
            let entry = entry.trim();
            if let Some(block) = Block::parse(entry) {
                policy.blocks.push(block);
            } else if !entry.is_empty()
                && !entry.contains('/')
                && entry
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
            {
                policy.names.push(entry.to_ascii_lowercase());
            } else {
                return Err(format!(
                    "{entry:?} is neither a host name nor an address block such as 10.0.0.0/8"
                ));
            }
        }
        for url in configured {
            if let Some(host) = host_of(url) {
                match host.parse::<IpAddr>() {
                    Ok(addr) => policy.blocks.push(Block {
                        addr,
                        bits: if addr.is_ipv4() { 32 } else { 128 },
                    }),
                    Err(_) => policy.names.push(host),
                }
            }
        }
        Ok(policy)
    }

    /// Whether a URL's host, as written, may be called. A name passes here when it is listed
    /// (or nothing is listed); what it resolves to is checked by [`Self::allows_address`].
    pub fn check_url(&self, field: &str, url: &str) -> Result<(), FieldError> {
        let Some(host) = host_of(url) else {
            return Ok(());
        };
        let allowed = match host.parse::<IpAddr>() {
            Ok(ip) => self.allows_address(&host, ip),
            Err(_) if METADATA_NAMES.contains(&host.as_str()) => self.names.contains(&host),
            Err(_) => !self.listed || self.names.contains(&host),
        };
        if allowed {
            Ok(())
        } else {
            Err(FieldError::new(field, self.refusal(&host)))
        }
    }

    /// Whether `host` may be called at `ip`, one of the addresses it resolved to.
    pub fn allows_address(&self, host: &str, ip: IpAddr) -> bool {
        if self.blocks.iter().any(|block| block.contains(ip)) {
            return true;
        }
        if self.listed {
            // A listed name is trusted to resolve where the operator meant.
            return host.parse::<IpAddr>().is_err()
                && self.names.contains(&host.to_ascii_lowercase());
        }
        !never_a_deployment(ip)
    }

    /// Why `host` is refused, and what to do.
    pub fn refusal(&self, host: &str) -> String {
        if self.listed {
            format!(
                "Switchyard may not send requests to {host}: the operator allows only the hosts in slot_hosts. Use one of those, or ask them to add it."
            )
        } else {
            format!(
                "Switchyard does not send requests to {host}: no deployment lives at a link-local, multicast or unspecified address (it is where cloud metadata services answer). Use the slot's own address."
            )
        }
    }
}

/// The host of an `http://` or `https://` URL, lowercase, without brackets or port.
pub fn host_of(url: &str) -> Option<String> {
    let rest = url
        .trim()
        .strip_prefix("http://")
        .or_else(|| url.trim().strip_prefix("https://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => host_port.split(':').next()?,
    };
    (!host.is_empty()).then(|| host.trim_end_matches('.').to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn blocks_match_by_their_leading_bits() {
        let block = Block::parse("10.0.0.0/8").expect("block");
        assert!(block.contains(ip("10.255.1.2")));
        assert!(!block.contains(ip("11.0.0.1")));
        assert!(Block::parse("0.0.0.0/0")
            .expect("all")
            .contains(ip("8.8.8.8")));
        assert!(Block::parse("fd00::/8")
            .expect("v6")
            .contains(ip("fd12::1")));
        assert!(Block::parse("192.0.2.7")
            .expect("one")
            .contains(ip("::ffff:192.0.2.7")));
        for bad in ["10.0.0.0/33", "::/129", "10.0.0/8", "x/8", "10.0.0.0/"] {
            assert_eq!(Block::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn hosts_are_read_from_urls() {
        for (url, host) in [
            ("http://10.0.0.5:8080/health", "10.0.0.5"),
            ("https://User:pw@LB.Internal./x", "lb.internal"),
            ("http://[fe80::1]:80/", "fe80::1"),
            ("http://a.example?x", "a.example"),
        ] {
            assert_eq!(host_of(url).as_deref(), Some(host), "{url}");
        }
        assert_eq!(host_of("ftp://x"), None);
    }

    #[test]
    fn by_default_everything_but_metadata_and_non_addresses_is_allowed() {
        let policy = OutboundPolicy::new(&[], &[]).expect("policy");
        for good in [
            "http://10.0.0.5:8080",
            "http://127.0.0.1:3000/health",
            "https://lb.internal/x",
            "http://[fd00::5]/",
        ] {
            assert!(policy.check_url("u", good).is_ok(), "{good}");
        }
        for bad in [
            "http://169.254.169.254/latest/meta-data/",
            "http://[::ffff:169.254.169.254]/",
            "http://[fe80::1]/",
            "http://0.0.0.0:80/",
            "http://224.0.0.1/",
            "http://255.255.255.255/",
            "http://metadata.google.internal/computeMetadata/v1/",
            "http://Metadata/",
        ] {
            let error = policy
                .check_url("slots.blue.health_url", bad)
                .expect_err(bad);
            assert_eq!(error.field, "slots.blue.health_url");
            assert!(error.message.contains("metadata"), "{}", error.message);
        }
        // A name that resolves to the metadata service is caught when it is resolved.
        assert!(!policy.allows_address("sneaky.example", ip("169.254.169.254")));
        assert!(policy.allows_address("lb.internal", ip("10.1.2.3")));
    }

    #[test]
    fn a_list_allows_only_what_it_names_and_what_the_configuration_uses() {
        let entries = ["10.0.0.0/8".to_owned(), "LB.internal".to_owned()];
        let policy =
            OutboundPolicy::new(&entries, &["http://driver.ops:9000/deploy"]).expect("policy");
        for good in [
            "http://10.2.3.4:8080",
            "http://lb.internal/health",
            "http://driver.ops:9000/x",
        ] {
            assert!(policy.check_url("u", good).is_ok(), "{good}");
        }
        for bad in [
            "http://192.168.1.1/",
            "http://other.internal/",
            "http://169.254.169.254/",
        ] {
            let error = policy.check_url("u", bad).expect_err(bad);
            assert!(error.message.contains("slot_hosts"), "{}", error.message);
        }
        assert!(
            policy.allows_address("lb.internal", ip("192.168.9.9")),
            "a listed name is trusted"
        );
        assert!(!policy.allows_address("other.internal", ip("192.168.9.9")));
        assert!(
            policy.allows_address("other.internal", ip("10.9.9.9")),
            "a listed block is"
        );
        for bad in ["10.0.0.0/40", "http://x", "a b", ""] {
            assert!(
                OutboundPolicy::new(&[bad.to_owned()], &[]).is_err(),
                "{bad:?}"
            );
        }
    }
}
