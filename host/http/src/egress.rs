//! The egress policy: which addresses a connection may go to, judged on the
//! address actually connected to (after name resolution and `--connect-to`,
//! for every address tried and every redirect hop), so that no spelling of
//! an address, no name and no redirect leads around it.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use ipnet::IpNet;

/// Why an address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// A range of `--egress-deny`.
    Denied(IpNet),
    /// A cloud provider's instance metadata service (credentials live there).
    CloudMetadata,
    LinkLocal,
    Unspecified,
    Multicast,
    Broadcast,
    /// 240.0.0.0/4: reserved, never a host.
    Reserved,
    /// `--egress-strict`: a private range (RFC 1918, shared 100.64/10, ULA fc00::/7).
    Private,
    /// `--egress-strict`: the machine's own services.
    Loopback,
}

impl Rule {
    /// The rule's name, as counted in the egress manifest.
    pub fn name(&self) -> String {
        match self {
            Self::Denied(net) => format!("--egress-deny {net}"),
            Self::CloudMetadata => "cloud-metadata".into(),
            Self::LinkLocal => "link-local".into(),
            Self::Unspecified => "unspecified".into(),
            Self::Multicast => "multicast".into(),
            Self::Broadcast => "broadcast".into(),
            Self::Reserved => "reserved".into(),
            Self::Private => "private (--egress-strict)".into(),
            Self::Loopback => "loopback (--egress-strict)".into(),
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// An address refused, and the rule that refused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub address: IpAddr,
    pub rule: Rule,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let address = self.address;
        match self.rule {
            Rule::Denied(net) => write!(f, "{address} is in --egress-deny {net}"),
            rule => {
                // The address judged: an allow of the IPv4 address covers
                // every IPv6 form that carries it.
                let range = IpNet::from(judged_as(address));
                write!(
                    f,
                    "{address} is {rule}; the operator can allow it with --egress-allow {range}"
                )
            }
        }
    }
}

/// A range given as `--egress-allow` or `--egress-deny`: a CIDR, or one
/// address (a /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr(pub IpNet);

impl FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Ok(net) = text.parse::<IpNet>() {
            return Ok(Self(net.trunc()));
        }
        text.trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .map(|address| Self(IpNet::from(address)))
            .map_err(|_| {
                format!(
                    "{text:?}: expected an address range such as 10.0.0.0/8, fd00::/8 or 192.0.2.7"
                )
            })
    }
}

/// Which addresses the run's connections may go to.
#[derive(Debug, Clone, Default)]
pub struct EgressPolicy {
    allow: Vec<IpNet>,
    deny: Vec<IpNet>,
    strict: bool,
    /// Addresses the operator named as literals (the target, `--allow-host`,
    /// `--connect-to`): `strict` does not refuse them for being private or
    /// loopback.
    named: Vec<IpAddr>,
    /// Every address is allowed: for the operator's own destinations
    /// (Prometheus remote write), not the scenario's.
    open: bool,
}

/// The metadata services of the major clouds, by address. (Most lie in
/// 169.254/16 and are refused as link-local anyway; named apart so that the
/// manifest says what was tried.)
const METADATA: [IpAddr; 6] = [
    // AWS, Azure, GCP, Oracle, DigitalOcean, OpenStack, Hetzner.
    IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)),
    // AWS ECS task metadata.
    IpAddr::V4(Ipv4Addr::new(169, 254, 170, 2)),
    // Tencent Cloud.
    IpAddr::V4(Ipv4Addr::new(169, 254, 0, 23)),
    // Alibaba Cloud: inside 100.64/10, which is reachable otherwise.
    IpAddr::V4(Ipv4Addr::new(100, 100, 100, 200)),
    // AWS over IPv6 (Nitro): inside fc00::/7, reachable otherwise.
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)),
    // GCP over IPv6.
    IpAddr::V6(Ipv6Addr::new(0xfd20, 0xce, 0, 0, 0, 0, 0, 0x254)),
];

impl EgressPolicy {
    /// The default policy, plus the operator's `allow` and `deny` ranges;
    /// `strict` refuses private and loopback addresses too, except those
    /// in `allow` or `named`.
    pub fn new(allow: Vec<IpNet>, deny: Vec<IpNet>, strict: bool, named: Vec<IpAddr>) -> Self {
        Self {
            allow,
            deny,
            strict,
            named,
            open: false,
        }
    }

    /// A policy that allows everything: for destinations the operator names
    /// for the run's own use, such as Prometheus remote write.
    pub fn operator() -> Self {
        Self {
            open: true,
            ..Self::default()
        }
    }

    /// Whether a connection may go to `address`.
    pub fn check(&self, address: IpAddr) -> Result<(), Refusal> {
        if self.open {
            return Ok(());
        }
        let judged = judged_as(address);
        let refuse = |rule| Err(Refusal { address, rule });
        let within = |net: &IpNet| net.contains(&address) || net.contains(&judged);
        if let Some(net) = self.deny.iter().find(|net| within(net)) {
            return refuse(Rule::Denied(*net));
        }
        if self.allow.iter().any(within) {
            return Ok(());
        }
        if let Some(rule) = built_in_rule(judged) {
            return refuse(rule);
        }
        if self.strict && !self.named.contains(&address) && !self.named.contains(&judged) {
            if judged.is_loopback() {
                return refuse(Rule::Loopback);
            }
            if is_private(judged) {
                return refuse(Rule::Private);
            }
        }
        Ok(())
    }
}

/// The rule of the default policy that refuses `address`, if any.
fn built_in_rule(address: IpAddr) -> Option<Rule> {
    if METADATA.contains(&address) {
        return Some(Rule::CloudMetadata);
    }
    match address {
        IpAddr::V4(v4) => {
            if v4.is_link_local() {
                Some(Rule::LinkLocal)
            } else if v4.octets()[0] == 0 {
                Some(Rule::Unspecified)
            } else if v4.is_multicast() {
                Some(Rule::Multicast)
            } else if v4.is_broadcast() {
                Some(Rule::Broadcast)
            } else if v4.octets()[0] >= 240 {
                Some(Rule::Reserved)
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            if v6.is_unicast_link_local() {
                Some(Rule::LinkLocal)
            } else if v6.is_unspecified() {
                Some(Rule::Unspecified)
            } else if v6.is_multicast() {
                Some(Rule::Multicast)
            } else {
                None
            }
        }
    }
}

fn is_private(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private() || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => v6.is_unique_local(),
    }
}

/// The address to judge: an IPv6 address that carries an IPv4 one (mapped,
/// compatible, NAT64, 6to4, Teredo) is judged as the IPv4 address it
/// reaches, so that `[::ffff:169.254.169.254]` is link-local too.
pub fn judged_as(address: IpAddr) -> IpAddr {
    let IpAddr::V6(v6) = address else {
        return address;
    };
    let segments = v6.segments();
    let low = Ipv4Addr::new(
        (segments[6] >> 8) as u8,
        segments[6] as u8,
        (segments[7] >> 8) as u8,
        segments[7] as u8,
    );
    let embedded = match segments {
        // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible; not :: or ::1).
        [0, 0, 0, 0, 0, 0xffff, ..] => Some(low),
        [0, 0, 0, 0, 0, 0, ..] if !v6.is_unspecified() && !v6.is_loopback() => Some(low),
        // NAT64: the well-known 64:ff9b::/96 and the local-use 64:ff9b:1::/48.
        [0x64, 0xff9b, 0, 0, 0, 0, ..] => Some(low),
        [0x64, 0xff9b, 1, ..] => Some(low),
        // 6to4: 2002:AABB:CCDD::/48.
        [0x2002, high, next, ..] => Some(Ipv4Addr::new(
            (high >> 8) as u8,
            high as u8,
            (next >> 8) as u8,
            next as u8,
        )),
        // Teredo: 2001:0::/32, the client's address inverted in the low bits.
        [0x2001, 0, ..] => Some(Ipv4Addr::from(!u32::from(low))),
        _ => None,
    };
    embedded.map_or(address, IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn rule(policy: &EgressPolicy, address: &str) -> Option<Rule> {
        policy.check(ip(address)).err().map(|refusal| refusal.rule)
    }

    #[test]
    fn the_default_refuses_metadata_link_local_and_non_hosts_in_every_spelling() {
        let policy = EgressPolicy::default();
        for (address, expected) in [
            ("169.254.169.254", Rule::CloudMetadata),
            ("100.100.100.200", Rule::CloudMetadata),
            ("fd00:ec2::254", Rule::CloudMetadata),
            ("::ffff:169.254.169.254", Rule::CloudMetadata),
            ("::169.254.169.254", Rule::CloudMetadata),
            ("64:ff9b::a9fe:a9fe", Rule::CloudMetadata),
            ("64:ff9b:1::a9fe:a9fe", Rule::CloudMetadata),
            ("2002:a9fe:a9fe::1", Rule::CloudMetadata),
            ("2001:0:4136:e378:8000:63bf:5601:5601", Rule::CloudMetadata),
            ("169.254.1.1", Rule::LinkLocal),
            ("fe80::1", Rule::LinkLocal),
            ("0.0.0.0", Rule::Unspecified),
            ("0.1.2.3", Rule::Unspecified),
            ("::", Rule::Unspecified),
            ("::ffff:0.0.0.0", Rule::Unspecified),
            ("224.0.0.1", Rule::Multicast),
            ("ff02::1", Rule::Multicast),
            ("255.255.255.255", Rule::Broadcast),
            ("240.0.0.1", Rule::Reserved),
        ] {
            assert_eq!(rule(&policy, address), Some(expected), "{address}");
        }
    }

    #[test]
    fn the_default_reaches_loopback_private_ranges_and_the_internet() {
        let policy = EgressPolicy::default();
        for address in [
            "127.0.0.1",
            "::1",
            "::ffff:127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "fd12::1",
            "192.0.2.7",
            "2001:db8::1",
        ] {
            assert_eq!(rule(&policy, address), None, "{address}");
        }
    }

    #[test]
    fn strict_refuses_private_and_loopback_unless_named_or_allowed() {
        let allow = vec!["10.1.0.0/16".parse().unwrap()];
        let policy = EgressPolicy::new(allow, Vec::new(), true, vec![ip("127.0.0.1")]);
        assert_eq!(rule(&policy, "127.0.0.1"), None);
        assert_eq!(rule(&policy, "::ffff:127.0.0.1"), None);
        assert_eq!(rule(&policy, "10.1.2.3"), None);
        assert_eq!(rule(&policy, "127.0.0.2"), Some(Rule::Loopback));
        assert_eq!(rule(&policy, "::1"), Some(Rule::Loopback));
        assert_eq!(rule(&policy, "10.2.0.1"), Some(Rule::Private));
        assert_eq!(rule(&policy, "192.168.0.1"), Some(Rule::Private));
        assert_eq!(rule(&policy, "fd12::1"), Some(Rule::Private));
        assert_eq!(rule(&policy, "169.254.169.254"), Some(Rule::CloudMetadata));
        assert_eq!(rule(&policy, "192.0.2.7"), None);
    }

    #[test]
    fn deny_wins_over_allow_and_allow_over_the_defaults() {
        let allow = vec!["169.254.169.254/32".parse().unwrap()];
        let deny = vec!["10.0.0.0/8".parse().unwrap()];
        let policy = EgressPolicy::new(allow, deny, false, Vec::new());
        assert_eq!(rule(&policy, "169.254.169.254"), None);
        assert_eq!(rule(&policy, "::ffff:169.254.169.254"), None);
        assert_eq!(
            rule(&policy, "::ffff:10.9.9.9"),
            Some(Rule::Denied("10.0.0.0/8".parse().unwrap()))
        );
        assert_eq!(rule(&policy, "169.254.169.253"), Some(Rule::LinkLocal));
    }

    #[test]
    fn a_refusal_names_the_rule_and_the_flag() {
        let refusal = EgressPolicy::default()
            .check(ip("169.254.169.254"))
            .unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "169.254.169.254 is cloud-metadata; the operator can allow it with --egress-allow 169.254.169.254/32"
        );
    }

    #[test]
    fn ranges_parse_as_cidrs_or_single_addresses() {
        let parse = |text: &str| text.parse::<Cidr>().map(|c| c.0.to_string());
        assert_eq!(parse("10.0.0.0/8"), Ok("10.0.0.0/8".into()));
        assert_eq!(parse("10.1.2.3/8"), Ok("10.0.0.0/8".into()));
        assert_eq!(parse("192.0.2.7"), Ok("192.0.2.7/32".into()));
        assert_eq!(parse("[::1]"), Ok("::1/128".into()));
        assert!(parse("10.0.0.0/33").is_err());
        assert!(parse("example.com").is_err());
    }

    #[test]
    fn the_operators_policy_allows_everything() {
        assert_eq!(rule(&EgressPolicy::operator(), "169.254.169.254"), None);
    }
}
