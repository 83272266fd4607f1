//! IP addresses and CIDR blocks as Elasticsearch's `ip` type treats them.
//!
//! An `ip` field indexes every address as 16 bytes, IPv4 as the IPv4-mapped
//! IPv6 form (`::ffff:a.b.c.d`), so IPv4 and IPv6 values share one order and
//! a CIDR block is simply a range of 16-byte values. A term query on an `ip`
//! field accepts a plain address or a CIDR block; `cidrMatch` tests blocks.
//! Host bits in a block (`10.6.48.157/8`) are ignored, as in Elasticsearch.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Parses an address (`10.0.0.1`, `::1`, `::ffff:10.0.0.1`).
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    s.parse::<IpAddr>().ok()
}

/// The address as 16 bytes, IPv4 mapped into IPv6.
pub fn to_u128(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// The canonical text of an address, as an `ip` doc value renders it:
/// IPv4-mapped addresses come back as plain IPv4.
pub fn canonical(addr: IpAddr) -> String {
    match addr {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.to_string(),
        },
    }
}

/// An inclusive range of 16-byte addresses: one address or a CIDR block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpRange {
    pub lo: u128,
    pub hi: u128,
}

impl IpRange {
    pub fn contains(&self, addr: u128) -> bool {
        self.lo <= addr && addr <= self.hi
    }
}

/// Parses `addr/prefix`, or a plain address as a single-address range.
/// `None` when the text is neither.
pub fn parse_cidr(s: &str) -> Option<IpRange> {
    let (addr_text, prefix) = match s.split_once('/') {
        Some((a, p)) => {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.len() > 3 {
                return None;
            }
            (a, Some(p.parse::<u32>().ok()?))
        }
        None => (s, None),
    };
    let addr = parse_ip(addr_text)?;
    let (value, bits) = match addr {
        IpAddr::V4(v4) => {
            let p = prefix.unwrap_or(32);
            if p > 32 {
                return None;
            }
            (to_u128(IpAddr::V4(v4)), 96 + p)
        }
        IpAddr::V6(v6) => {
            let p = prefix.unwrap_or(128);
            if p > 128 {
                return None;
            }
            (u128::from(v6), p)
        }
    };
    let host_mask = if bits >= 128 { 0 } else { u128::MAX >> bits };
    Some(IpRange {
        lo: value & !host_mask,
        hi: value | host_mask,
    })
}

/// Whether `addr` (as text) lies in any of the ranges; `None` when the text
/// is not an address.
pub fn in_any(addr: &str, ranges: &[IpRange]) -> Option<bool> {
    let a = to_u128(parse_ip(addr)?);
    Some(ranges.iter().any(|r| r.contains(a)))
}

/// The unspecified IPv6 address, for tests and defaults.
pub const UNSPECIFIED_V6: Ipv6Addr = Ipv6Addr::UNSPECIFIED;
/// The unspecified IPv4 address.
pub const UNSPECIFIED_V4: Ipv4Addr = Ipv4Addr::UNSPECIFIED;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_blocks_ignore_host_bits() {
        let r = parse_cidr("10.6.48.157/8").map(|r| (r.lo, r.hi));
        let lo = to_u128("10.0.0.0".parse().unwrap_or(IpAddr::V4(UNSPECIFIED_V4)));
        let hi = to_u128(
            "10.255.255.255"
                .parse()
                .unwrap_or(IpAddr::V4(UNSPECIFIED_V4)),
        );
        assert_eq!(r, Some((lo, hi)));
        assert_eq!(
            in_any(
                "10.6.48.157",
                &[parse_cidr("0.0.0.0/0").unwrap_or(IpRange { lo: 1, hi: 0 })]
            ),
            Some(true)
        );
        assert_eq!(parse_cidr("10.0.0.0/33"), None);
        assert_eq!(parse_cidr("nope/8"), None);
    }

    #[test]
    fn ipv6_blocks() {
        let r = parse_cidr("2001:db8::/32");
        assert!(r.is_some_and(|r| r.contains(to_u128(
            "2001:db8::1".parse().unwrap_or(IpAddr::V6(UNSPECIFIED_V6))
        ))));
        assert_eq!(
            canonical(
                "::ffff:10.0.0.1"
                    .parse()
                    .unwrap_or(IpAddr::V6(UNSPECIFIED_V6))
            ),
            "10.0.0.1"
        );
    }
}
