//! `community_id`: the Community ID flow hash (version 1) of a connection, so that one flow
//! seen by several tools (Zeek, Suricata, packet brokers, firewalls) carries the same
//! `network.community_id` everywhere. The hash is SHA-1 over the seed, both endpoints in a
//! canonical order, the protocol and the ports (ICMP types and codes standing in for ports),
//! base64-encoded behind `1:`.

use std::net::IpAddr;

use base64::Engine as _;
use logfleet_model::json::JsonValue;
use sha1::{Digest, Sha1};

use super::expect_string;
use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::IngestDocument;
use crate::processor::{Flow, Processor, Run};

/// Computes the Community ID of a flow.
#[derive(Debug)]
pub struct CommunityId {
    source_ip: String,
    source_port: String,
    destination_ip: String,
    destination_port: String,
    iana_number: String,
    transport: String,
    icmp_type: String,
    icmp_code: String,
    target_field: String,
    seed: u16,
    ignore_missing: bool,
}

/// Builds the processor from its options.
pub fn build(mut config: ProcessorConfig) -> Result<CommunityId, ConfigError> {
    let mut field = |name: &str, default: &str| -> Result<String, ConfigError> {
        Ok(config
            .optional_string(name)?
            .unwrap_or_else(|| default.to_owned()))
    };
    let source_ip = field("source_ip", "source.ip")?;
    let source_port = field("source_port", "source.port")?;
    let destination_ip = field("destination_ip", "destination.ip")?;
    let destination_port = field("destination_port", "destination.port")?;
    let iana_number = field("iana_number", "network.iana_number")?;
    let transport = field("transport", "network.transport")?;
    let icmp_type = field("icmp_type", "icmp.type")?;
    let icmp_code = field("icmp_code", "icmp.code")?;
    let target_field = field("target_field", "network.community_id")?;
    let seed = match config.optional_integer("seed")? {
        None => 0,
        Some(seed) => u16::try_from(seed)
            .map_err(|_| config.error("seed", "must be a value between 0 and 65535"))?,
    };
    let ignore_missing = config.boolean("ignore_missing", true)?;
    config.finish()?;
    Ok(CommunityId {
        source_ip,
        source_port,
        destination_ip,
        destination_port,
        iana_number,
        transport,
        icmp_type,
        icmp_code,
        target_field,
        seed,
        ignore_missing,
    })
}

/// IANA protocol numbers of the transports Elasticsearch names.
fn protocol_number(transport: &str) -> Option<u8> {
    Some(match transport.to_ascii_lowercase().as_str() {
        "icmp" => 1,
        "igmp" => 2,
        "tcp" => 6,
        "udp" => 17,
        "gre" => 47,
        "icmpv6" | "ipv6-icmp" | "icmp6" => 58,
        "eigrp" => 88,
        "ospf" => 89,
        "pim" => 103,
        "sctp" => 132,
        _ => return None,
    })
}

/// For ICMP messages that have a reply, the reply's type: such flows are two-way.
fn icmp_counterpart(protocol: u8, icmp_type: u16) -> Option<u16> {
    let pairs: &[(u16, u16)] = if protocol == 1 {
        &[
            (8, 0),
            (0, 8),
            (13, 14),
            (14, 13),
            (15, 16),
            (16, 15),
            (10, 9),
            (9, 10),
            (17, 18),
            (18, 17),
        ]
    } else {
        &[
            (128, 129),
            (129, 128),
            (133, 134),
            (134, 133),
            (135, 136),
            (136, 135),
            (130, 131),
            (131, 130),
            (144, 145),
            (145, 144),
        ]
    };
    pairs
        .iter()
        .find(|(request, _)| *request == icmp_type)
        .map(|(_, reply)| *reply)
}

/// The Community ID of a flow, version 1.
pub fn community_id(
    seed: u16,
    source: (IpAddr, u16),
    destination: (IpAddr, u16),
    protocol: u8,
    with_ports: bool,
    one_way: bool,
) -> String {
    let bytes = |address: IpAddr| match address {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    };
    let (mut first, mut second) = (
        (bytes(source.0), source.1),
        (bytes(destination.0), destination.1),
    );
    if !one_way && (first.0 > second.0 || (first.0 == second.0 && first.1 > second.1)) {
        std::mem::swap(&mut first, &mut second);
    }
    let mut hasher = Sha1::new();
    hasher.update(seed.to_be_bytes());
    hasher.update(&first.0);
    hasher.update(&second.0);
    hasher.update([protocol, 0]);
    if with_ports {
        hasher.update(first.1.to_be_bytes());
        hasher.update(second.1.to_be_bytes());
    }
    format!(
        "1:{}",
        base64::engine::general_purpose::STANDARD.encode(hasher.finalize())
    )
}

impl CommunityId {
    fn address(
        &self,
        document: &IngestDocument<'_>,
        field: &str,
    ) -> Result<Option<IpAddr>, PipelineError> {
        let Some(value) = document.get(field)? else {
            return Ok(None);
        };
        let text = expect_string(&value, field)?;
        text.parse().map(Some).map_err(|_| {
            PipelineError::illegal_argument(format!("'{text}' is not an IP string literal."))
        })
    }

    fn number(
        &self,
        document: &IngestDocument<'_>,
        field: &str,
        what: &str,
    ) -> Result<Option<u16>, PipelineError> {
        let Some(value) = document.get(field)? else {
            return Ok(None);
        };
        let number = match value.as_ref() {
            JsonValue::Number(number) => number.as_u64(),
            JsonValue::String(text) => text.trim().parse().ok(),
            _ => None,
        };
        number
            .and_then(|number| u16::try_from(number).ok())
            .map(Some)
            .ok_or_else(|| PipelineError::illegal_argument(format!("invalid {what} [{value}]")))
    }
}

impl Processor for CommunityId {
    fn kind(&self) -> &'static str {
        "community_id"
    }

    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        _run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        let missing = |field: &str| {
            if self.ignore_missing {
                Ok(Flow::Continue)
            } else {
                Err(PipelineError::illegal_argument(format!(
                    "field [{field}] not present as part of path [{field}]"
                )))
            }
        };
        let Some(source_ip) = self.address(document, &self.source_ip)? else {
            return missing(&self.source_ip);
        };
        let Some(destination_ip) = self.address(document, &self.destination_ip)? else {
            return missing(&self.destination_ip);
        };
        let protocol = match self.number(document, &self.iana_number, "IANA number")? {
            Some(number) => u8::try_from(number).map_err(|_| {
                PipelineError::illegal_argument(format!("invalid IANA number [{number}]"))
            })?,
            None => match document.get(&self.transport)? {
                Some(value) => {
                    let name = expect_string(&value, &self.transport)?;
                    protocol_number(name).ok_or_else(|| {
                        PipelineError::illegal_argument(format!(
                            "could not convert string [{name}] to transport protocol"
                        ))
                    })?
                }
                None => return missing(&self.transport),
            },
        };
        let (with_ports, ports, one_way) = match protocol {
            6 | 17 | 132 => {
                let Some(source_port) = self.number(document, &self.source_port, "source port")?
                else {
                    return missing(&self.source_port);
                };
                let Some(destination_port) =
                    self.number(document, &self.destination_port, "destination port")?
                else {
                    return missing(&self.destination_port);
                };
                (true, (source_port, destination_port), false)
            }
            1 | 58 => {
                let Some(icmp_type) = self.number(document, &self.icmp_type, "ICMP type")? else {
                    return missing(&self.icmp_type);
                };
                match icmp_counterpart(protocol, icmp_type) {
                    Some(reply) => (true, (icmp_type, reply), false),
                    None => {
                        let code = self
                            .number(document, &self.icmp_code, "ICMP code")?
                            .unwrap_or(0);
                        (true, (icmp_type, code), true)
                    }
                }
            }
            _ => (false, (0, 0), false),
        };
        let id = community_id(
            self.seed,
            (source_ip, ports.0),
            (destination_ip, ports.1),
            protocol,
            with_ports,
            one_way,
        );
        document.set(&self.target_field, JsonValue::from(id))?;
        Ok(Flow::Continue)
    }
}

#[cfg(test)]
mod tests {
    use crate::processors::testing::{build_error, run};
    use serde_json::json;

    fn id(source: serde_json::Value) -> serde_json::Value {
        run(json!({"community_id": {}}), source)["network"]["community_id"].clone()
    }

    #[test]
    fn hashes_flows_in_either_direction_alike() {
        let forward = json!({"source": {"ip": "12.12.12.1", "port": 12345}, "destination": {"ip": "12.12.12.2", "port": 80}, "network": {"transport": "TCP"}});
        let backward = json!({"source": {"ip": "12.12.12.2", "port": 80}, "destination": {"ip": "12.12.12.1", "port": 12345}, "network": {"iana_number": 6}});
        assert_eq!(id(forward), id(backward), "both directions are one flow");
        // The example of the Community ID specification.
        let spec = json!({"source": {"ip": "128.232.110.120", "port": 34855}, "destination": {"ip": "66.35.250.204", "port": 80}, "network": {"transport": "tcp"}});
        assert_eq!(id(spec), "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
    }

    #[test]
    fn icmp_and_missing_fields() {
        let echo = json!({"source": {"ip": "10.0.0.1"}, "destination": {"ip": "10.0.0.2"}, "network": {"transport": "icmp"}, "icmp": {"type": 8, "code": 0}});
        let reply = json!({"source": {"ip": "10.0.0.2"}, "destination": {"ip": "10.0.0.1"}, "network": {"transport": "icmp"}, "icmp": {"type": 0, "code": 0}});
        assert_eq!(id(echo), id(reply), "a request and its reply are one flow");
        let out = run(
            json!({"community_id": {}}),
            json!({"source": {"ip": "10.0.0.1"}}),
        );
        assert!(
            out.get("network").is_none(),
            "missing fields are skipped by default"
        );
        assert!(
            build_error(json!({"community_id": {"seed": 70000}})).contains("between 0 and 65535")
        );
    }
}
