//! Realistic seed-schema events for benchmarks: all five categories, tens of services,
//! hundreds of endpoints, thousands of users and client addresses, deterministic per seed.

use std::fmt::Write;

/// A small, fast, deterministic PRNG (xorshift64*); benchmarks need repeatability, not
/// cryptographic quality.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..bound`.
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Skewed towards small indexes (a few hot users, endpoints, services), as real traffic is.
    pub fn skewed(&mut self, bound: u64) -> u64 {
        let u = self.unit();
        ((u * u * u) * bound as f64) as u64 % bound.max(1)
    }
}

pub const SERVICES: &[&str] = &[
    "access_postgresql",
    "user_service",
    "auth",
    "billing",
    "catalog",
    "checkout",
    "inventory",
    "notifications",
    "search",
    "recommendations",
    "shipping",
    "payments",
    "profile",
    "reviews",
    "gateway",
    "reporting",
    "media",
    "sessions",
    "audit_sink",
    "pricing",
    "cart",
    "orders",
    "warehouse",
    "support",
];
const RESOURCES: &[&str] = &[
    "users",
    "orders",
    "products",
    "carts",
    "payments",
    "invoices",
    "sessions",
    "profiles",
    "reviews",
    "shipments",
    "coupons",
    "addresses",
    "tickets",
    "reports",
    "media",
    "prices",
    "stock",
    "wishlists",
    "refunds",
    "subscriptions",
];
const METHODS: &[&str] = &["GET", "GET", "GET", "POST", "PUT", "DELETE", "PATCH"];
const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "python-requests/2.31.0",
    "okhttp/4.12.0",
    "curl/8.5.0",
    "Go-http-client/1.1",
];
const USER_ACTIONS: &[&str] = &[
    "LOGIN_SUCCESS",
    "LOGIN_FAILED",
    "LOGOUT",
    "USER_CREATED",
    "PASSWORD_CHANGED",
    "PROFILE_UPDATED",
    "USER_DELETED",
];
const DB_ENTITIES: &[&str] = &["USER", "SESSION", "PROFILE", "ORDER", "PAYMENT", "PRODUCT"];
const DB_ACTIONS: &[(&str, &str)] = &[
    ("CREATE", "create"),
    ("READ", "read"),
    ("UPDATE", "update"),
    ("DELETE", "delete"),
];
const ERROR_TYPES: &[&str] = &[
    "timeout",
    "connection_refused",
    "connection_reset",
    "dns_failure",
];

/// Number of distinct endpoints.
pub const ENDPOINTS: u64 = 400;
/// Number of distinct users.
pub const USERS: u64 = 5000;
/// Number of distinct client addresses.
pub const ADDRESSES: u64 = 8000;

/// Generates events with timestamps from `start_millis` onwards, `spacing_micros` apart.
#[derive(Debug, Clone)]
pub struct EventGenerator {
    rng: Rng,
    next_micros: i64,
    spacing_micros: i64,
    sequence: u64,
}

impl EventGenerator {
    /// A generator; the same seed gives the same events.
    pub fn new(seed: u64, start_millis: i64, spacing_micros: i64) -> EventGenerator {
        EventGenerator {
            rng: Rng::new(seed),
            next_micros: start_millis * 1000,
            spacing_micros,
            sequence: 0,
        }
    }

    fn endpoint(&mut self) -> (String, &'static str, String) {
        let index = self.rng.skewed(ENDPOINTS);
        let method = METHODS[(index % METHODS.len() as u64) as usize];
        let resource = RESOURCES[(index / 7 % RESOURCES.len() as u64) as usize];
        let template = match index % 4 {
            0 => format!("/api/{resource}/"),
            1 => format!("/api/{resource}/{{id}}/"),
            2 => format!("/api/v{}/{resource}/{{id}}/items/", index % 3 + 1),
            _ => format!("/api/{resource}/{{id}}/action{}/", index % 11),
        };
        let path = template.replace("{id}", &(self.rng.below(100_000)).to_string());
        (format!("{method} {template}"), method, path)
    }

    fn ip(&mut self) -> String {
        let index = self.rng.skewed(ADDRESSES);
        format!(
            "{}.{}.{}.{}",
            11 + index % 200,
            (index / 200) % 250,
            (index * 7) % 250,
            1 + index % 253
        )
    }

    /// Appends one event as a single line of JSON.
    pub fn write_event(&mut self, out: &mut String) {
        let micros = self.next_micros;
        self.next_micros += self.spacing_micros;
        self.sequence += 1;
        let timestamp = format_micros(micros);
        let service = SERVICES[self.rng.skewed(SERVICES.len() as u64) as usize];
        let request_id = format!("{:016x}{:08x}", self.rng.next_u64(), self.sequence as u32);
        let roll = self.rng.below(100);
        let host = format!("{service}-{}", self.rng.below(3));
        let common = |out: &mut String, category: &str, level: &str| {
            let _ = write!(
                out,
                r#"{{"@timestamp":"{timestamp}","log_category":"{category}","level":"{level}","app_name":"{service}","service_type":"{}","environment":"production","host":"{host}","service_version":"1.{}.0","request_id":"{request_id}","#,
                if service == "access_postgresql" {
                    "data_manager"
                } else {
                    "proxy_service"
                },
                service.len() % 5
            );
        };
        match roll {
            0..45 => {
                let (signature, method, path) = self.endpoint();
                let status = match self.rng.below(1000) {
                    0..900 => [200, 200, 201, 204][self.rng.below(4) as usize],
                    900..950 => [301, 304][self.rng.below(2) as usize],
                    950..990 => [400, 401, 403, 404, 409][self.rng.below(5) as usize],
                    _ => [500, 502, 503][self.rng.below(3) as usize],
                };
                let category = match status {
                    200..300 => "success",
                    300..400 => "redirect",
                    400..500 => "client_error",
                    _ => "server_error",
                };
                let level = if status >= 500 {
                    "error"
                } else if status >= 400 {
                    "warning"
                } else {
                    "info"
                };
                let duration = 2.0 + self.rng.unit().powi(4) * 1500.0;
                let user = self.rng.skewed(USERS);
                common(out, "api_request", level);
                let _ = write!(
                    out,
                    r#""message":"{signature} {status} {duration:.1}ms","action_type":"{}_{}","http_method":"{method}","path":"{path}","endpoint_signature":"{signature}","status_code":{status},"response_category":"{category}","duration_ms":{duration:.3},"request_size":{},"response_size":{},"client_ip":"{}","user_agent":"{}","user_id":"u{user}","user_name":"user{user}"}}"#,
                    RESOURCES[(user % RESOURCES.len() as u64) as usize].to_uppercase(),
                    method,
                    self.rng.below(4000),
                    200 + self.rng.below(20_000),
                    self.ip(),
                    USER_AGENTS[self.rng.skewed(USER_AGENTS.len() as u64) as usize],
                );
            }
            45..70 => {
                let entity = DB_ENTITIES[self.rng.skewed(DB_ENTITIES.len() as u64) as usize];
                let (operation, action) =
                    DB_ACTIONS[self.rng.below(DB_ACTIONS.len() as u64) as usize];
                let slow = self.rng.below(200) == 0;
                let duration = if slow {
                    1000.0 + self.rng.unit() * 3000.0
                } else {
                    0.2 + self.rng.unit().powi(3) * 80.0
                };
                common(out, "database", if slow { "warning" } else { "debug" });
                let _ = write!(
                    out,
                    r#""message":"{entity}_{operation} took {duration:.1}ms","db_operation":"{entity}_{operation}","db_entity":"{entity}","db_action":"{action}","duration_ms":{duration:.3},"rows_affected":{},"slow_query":{slow},"username":"user{}"}}"#,
                    self.rng.below(20),
                    self.rng.skewed(USERS),
                );
            }
            70..85 => {
                let target = SERVICES[self.rng.below(SERVICES.len() as u64) as usize];
                let (_, method, path) = self.endpoint();
                let failure = self.rng.below(100);
                common(
                    out,
                    "inter_service",
                    if failure < 3 { "error" } else { "info" },
                );
                let duration = 1.0 + self.rng.unit().powi(3) * 400.0;
                if failure < 2 {
                    let error_type = ERROR_TYPES[self.rng.below(ERROR_TYPES.len() as u64) as usize];
                    let _ = write!(
                        out,
                        r#""message":"{method} {target} failed: {error_type}","target_service":"{target}","target_url":"http://{target}:4000{path}","http_method":"{method}","duration_ms":{duration:.3},"retry_count":{},"error_type":"{error_type}","response_category":"server_error"}}"#,
                        self.rng.below(4),
                    );
                } else {
                    let status = if failure < 5 { 503 } else { 200 };
                    let category = if status == 200 {
                        "success"
                    } else {
                        "server_error"
                    };
                    let _ = write!(
                        out,
                        r#""message":"{method} {target} {status}","target_service":"{target}","target_url":"http://{target}:4000{path}","http_method":"{method}","status_code":{status},"response_category":"{category}","duration_ms":{duration:.3},"retry_count":0}}"#,
                    );
                }
            }
            85..90 => {
                common(out, "performance", "info");
                let p50 = 5.0 + self.rng.unit() * 40.0;
                let _ = write!(
                    out,
                    r#""message":"performance sample","cpu_percent":{:.2},"memory_rss_bytes":{},"requests_per_minute":{:.1},"duration_ms_p50":{p50:.2},"duration_ms_p95":{:.2},"duration_ms_p99":{:.2},"open_connections":{},"db_pool_in_use":{}}}"#,
                    self.rng.unit() * 100.0,
                    50_000_000 + self.rng.below(400_000_000),
                    self.rng.unit() * 3000.0,
                    p50 * 3.0,
                    p50 * 7.0,
                    self.rng.below(200),
                    self.rng.below(20),
                );
            }
            _ => {
                let action = USER_ACTIONS[self.rng.skewed(USER_ACTIONS.len() as u64) as usize];
                let user = self.rng.skewed(USERS);
                let success = action != "LOGIN_FAILED";
                common(out, "audit", if success { "info" } else { "warning" });
                let _ = write!(
                    out,
                    r#""message":"{action} user{user}","user_action":"{action}","user_id":"u{user}","user_name":"user{user}","success":{success},"client_ip":"{}","session_id":"s{:x}""#,
                    self.ip(),
                    self.rng.next_u64() >> 20,
                );
                if !success {
                    out.push_str(r#","reason":"invalid_password""#);
                }
                if action == "LOGOUT" {
                    let _ = write!(
                        out,
                        r#","session_duration_ms":{}"#,
                        self.rng.below(7_200_000)
                    );
                }
                out.push('}');
            }
        }
    }
}

/// RFC 3339 with microseconds, UTC.
fn format_micros(micros: i64) -> String {
    let millis = micros.div_euclid(1000);
    let base = logfleet_time::format_epoch_millis(millis);
    // `…SS.mmmZ` → `…SS.mmmuuuZ`
    format!("{}{:03}Z", &base[..base.len() - 1], micros.rem_euclid(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_valid_json_of_every_category() {
        let mut generator = EventGenerator::new(7, 1_795_709_820_000, 1000);
        let mut categories = std::collections::BTreeSet::new();
        let mut total_bytes = 0;
        for _ in 0..2000 {
            let mut line = String::new();
            generator.write_event(&mut line);
            total_bytes += line.len();
            let event: serde_json::Value =
                serde_json::from_str(&line).unwrap_or_else(|error| panic!("{error}: {line}"));
            categories.insert(event["log_category"].as_str().unwrap().to_owned());
            assert!(
                logfleet_time::parse_date_optional_time(event["@timestamp"].as_str().unwrap())
                    .is_some()
            );
        }
        assert_eq!(categories.len(), 5, "{categories:?}");
        let average = total_bytes / 2000;
        assert!(
            (350..700).contains(&average),
            "average event size {average}"
        );
    }

    #[test]
    fn same_seed_same_events() {
        let mut first = EventGenerator::new(1, 0, 1);
        let mut second = EventGenerator::new(1, 0, 1);
        let (mut a, mut b) = (String::new(), String::new());
        first.write_event(&mut a);
        second.write_event(&mut b);
        assert_eq!(a, b);
    }
}
