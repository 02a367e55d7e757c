//! `network_direction`: whether traffic between two addresses is `inbound`, `outbound`,
//! `internal` or `external`, given which networks are internal (CIDRs or the named ranges
//! Elasticsearch knows: `loopback`, `private`, `public`, `unicast`, `multicast`…).

use std::net::IpAddr;

use logfleet_model::json::JsonValue;

use super::expect_string;
use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::{IngestDocument, not_present};
use crate::processor::{Flow, Processor, Run};

/// Classifies the direction of a connection.
#[derive(Debug)]
pub struct NetworkDirection {
    source_ip: String,
    destination_ip: String,
    target_field: String,
    internal_networks: Networks,
    ignore_missing: bool,
}

#[derive(Debug)]
enum Networks {
    Listed(Vec<Network>),
    Field(String),
}

#[derive(Debug, Clone)]
enum Network {
    Cidr(IpAddr, u8),
    Named(String),
}

const NAMED: [&str; 10] = [
    "loopback",
    "unicast",
    "global_unicast",
    "multicast",
    "interface_local_multicast",
    "link_local_unicast",
    "link_local_multicast",
    "private",
    "public",
    "unspecified",
];

fn parse_network(text: &str) -> Result<Network, String> {
    if NAMED.contains(&text) {
        return Ok(Network::Named(text.to_owned()));
    }
    let (address, bits) = match text.split_once('/') {
        Some((address, bits)) => (address, Some(bits)),
        None => (text, None),
    };
    let address: IpAddr = address
        .parse()
        .map_err(|_| format!("'{text}' is not a network or a named range"))?;
    let max = if address.is_ipv4() { 32 } else { 128 };
    let bits = match bits {
        Some(bits) => bits
            .parse::<u8>()
            .ok()
            .filter(|bits| *bits <= max)
            .ok_or_else(|| format!("invalid prefix length in '{text}'"))?,
        None => max,
    };
    Ok(Network::Cidr(address, bits))
}

fn contains(network: &Network, address: IpAddr) -> bool {
    match network {
        Network::Cidr(base, bits) => match (base, address) {
            (IpAddr::V4(base), IpAddr::V4(address)) => {
                let mask = if *bits == 0 {
                    0
                } else {
                    u32::MAX << (32 - bits)
                };
                u32::from(*base) & mask == u32::from(address) & mask
            }
            (IpAddr::V6(base), IpAddr::V6(address)) => {
                let mask = if *bits == 0 {
                    0
                } else {
                    u128::MAX << (128 - bits)
                };
                u128::from(*base) & mask == u128::from(address) & mask
            }
            _ => false,
        },
        Network::Named(name) => named(name, address),
    }
}

fn named(name: &str, address: IpAddr) -> bool {
    let private = match address {
        IpAddr::V4(v4) => v4.is_private(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xfe00) == 0xfc00,
    };
    let link_local_unicast = match address {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    };
    match name {
        "loopback" => address.is_loopback(),
        "multicast" => address.is_multicast(),
        "unspecified" => address.is_unspecified(),
        "private" => private,
        "link_local_unicast" => link_local_unicast,
        "link_local_multicast" => match address {
            IpAddr::V4(v4) => v4.octets()[..3] == [224, 0, 0],
            IpAddr::V6(v6) => (v6.segments()[0] & 0xff0f) == 0xff02,
        },
        "interface_local_multicast" => {
            matches!(address, IpAddr::V6(v6) if (v6.segments()[0] & 0xff0f) == 0xff01)
        }
        "unicast" | "global_unicast" => {
            let unicast = !address.is_multicast()
                && !address.is_unspecified()
                && !matches!(address, IpAddr::V4(v4) if v4.is_broadcast());
            unicast && (name == "unicast" || (!address.is_loopback() && !link_local_unicast))
        }
        "public" => {
            !(address.is_loopback()
                || private
                || link_local_unicast
                || address.is_multicast()
                || address.is_unspecified()
                || matches!(address, IpAddr::V4(v4) if v4.is_broadcast()))
        }
        _ => false,
    }
}

/// Builds the processor from its options.
pub fn build(mut config: ProcessorConfig) -> Result<NetworkDirection, ConfigError> {
    let source_ip = config
        .optional_string("source_ip")?
        .unwrap_or_else(|| "source.ip".to_owned());
    let destination_ip = config
        .optional_string("destination_ip")?
        .unwrap_or_else(|| "destination.ip".to_owned());
    let target_field = config
        .optional_string("target_field")?
        .unwrap_or_else(|| "network.direction".to_owned());
    let listed = config.optional_strings("internal_networks", false)?;
    let field = config.optional_string("internal_networks_field")?;
    let internal_networks = match (listed, field) {
        (Some(_), Some(_)) => {
            return Err(config.error(
                "internal_networks",
                "and [internal_networks_field] cannot both be used in the same processor",
            ));
        }
        (None, None) => {
            return Err(config.error(
                "internal_networks",
                "or [internal_networks_field] must be specified",
            ));
        }
        (Some(listed), None) => Networks::Listed(
            listed
                .iter()
                .map(|text| {
                    parse_network(text).map_err(|reason| config.error("internal_networks", reason))
                })
                .collect::<Result<_, _>>()?,
        ),
        (None, Some(field)) => Networks::Field(field),
    };
    let ignore_missing = config.boolean("ignore_missing", true)?;
    config.finish()?;
    Ok(NetworkDirection {
        source_ip,
        destination_ip,
        target_field,
        internal_networks,
        ignore_missing,
    })
}

impl NetworkDirection {
    fn address(
        &self,
        document: &IngestDocument<'_>,
        field: &str,
    ) -> Result<Option<IpAddr>, PipelineError> {
        let Some(value) = document.get(field)? else {
            return if self.ignore_missing {
                Ok(None)
            } else {
                Err(not_present(field))
            };
        };
        let text = expect_string(&value, field)?;
        text.parse().map(Some).map_err(|_| {
            PipelineError::illegal_argument(format!("'{text}' is not an IP string literal."))
        })
    }
}

impl Processor for NetworkDirection {
    fn kind(&self) -> &'static str {
        "network_direction"
    }

    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        _run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        let (Some(source), Some(destination)) = (
            self.address(document, &self.source_ip)?,
            self.address(document, &self.destination_ip)?,
        ) else {
            return Ok(Flow::Continue);
        };
        let networks: Vec<Network> = match &self.internal_networks {
            Networks::Listed(networks) => networks.clone(),
            Networks::Field(field) => match document.get(field)?.map(|value| value.into_owned()) {
                Some(JsonValue::Array(items)) => items
                    .iter()
                    .filter_map(JsonValue::as_str)
                    .map(|text| parse_network(text).map_err(PipelineError::illegal_argument))
                    .collect::<Result<_, _>>()?,
                Some(JsonValue::String(text)) => {
                    vec![parse_network(&text).map_err(PipelineError::illegal_argument)?]
                }
                _ if self.ignore_missing => return Ok(Flow::Continue),
                _ => return Err(not_present(field)),
            },
        };
        let internal = |address: IpAddr| networks.iter().any(|network| contains(network, address));
        let direction = match (internal(source), internal(destination)) {
            (true, true) => "internal",
            (true, false) => "outbound",
            (false, true) => "inbound",
            (false, false) => "external",
        };
        document.set(&self.target_field, JsonValue::from(direction))?;
        Ok(Flow::Continue)
    }
}

#[cfg(test)]
mod tests {
    use crate::processors::testing::{build_error, run};
    use serde_json::json;

    fn direction(
        source: &str,
        destination: &str,
        networks: serde_json::Value,
    ) -> serde_json::Value {
        let out = run(
            json!({"network_direction": {"internal_networks": networks}}),
            json!({"source": {"ip": source}, "destination": {"ip": destination}}),
        );
        out["network"]["direction"].clone()
    }

    #[test]
    fn classifies() {
        assert_eq!(
            direction("10.0.0.1", "8.8.8.8", json!(["private"])),
            "outbound"
        );
        assert_eq!(
            direction("8.8.8.8", "192.168.1.2", json!(["private"])),
            "inbound"
        );
        assert_eq!(
            direction("10.0.0.1", "10.0.0.2", json!(["10.0.0.0/8"])),
            "internal"
        );
        assert_eq!(
            direction("1.1.1.1", "8.8.8.8", json!(["private", "loopback"])),
            "external"
        );
        assert_eq!(
            direction("fd00::1", "::1", json!(["private", "loopback"])),
            "internal"
        );
        assert_eq!(
            direction("8.8.8.8", "1.1.1.1", json!(["public"])),
            "internal"
        );
        assert!(
            build_error(json!({"network_direction": {"internal_networks": ["nowhere"]}}))
                .contains("not a network")
        );
    }
}
