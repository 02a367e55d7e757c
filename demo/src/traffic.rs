//! The traffic generator: virtual users from many countries who sign up, log in (now and
//! then with the wrong password), read and edit their profiles, ask for recommendations and
//! log out after sessions of varied length; a brute-force burst from one address now and
//! then; and, when the services allow it, injected server errors and slow queries.
//!
//! It plays the edge proxy too: each request carries its virtual user's address in
//! `X-Forwarded-For`, which the services trust from loopback only.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::{Client, Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

use crate::faults::{DATABASE_FAULTS, FAULT_HEADER, SLOW_QUERY_HEADER};

/// Where and how hard to send traffic.
#[derive(Debug, Clone)]
pub struct TrafficConfig {
    /// `user_service`'s base URL.
    pub user_service: String,
    /// `auth`'s base URL.
    pub auth: String,
    /// Virtual users acting at once.
    pub concurrency: usize,
    /// Pause between one virtual user's requests (a random value up to this).
    pub think_time: Duration,
    /// Share of requests that ask for an injected server error.
    pub fault_rate: f64,
    /// Share of requests that ask for a query slower than one second.
    pub slow_query_rate: f64,
    /// Share of logins made with a wrong password.
    pub wrong_password_rate: f64,
    /// Time between brute-force bursts.
    pub brute_force_every: Duration,
}

impl TrafficConfig {
    /// The quickstart's traffic against services at these URLs.
    pub fn new(user_service: impl Into<String>, auth: impl Into<String>) -> TrafficConfig {
        TrafficConfig {
            user_service: user_service.into(),
            auth: auth.into(),
            concurrency: 6,
            think_time: Duration::from_millis(800),
            fault_rate: 0.02,
            slow_query_rate: 0.02,
            wrong_password_rate: 0.12,
            brute_force_every: Duration::from_secs(90),
        }
    }
}

/// What the generator did, by outcome.
#[derive(Debug, Default)]
pub struct TrafficStats {
    /// Requests answered 2xx or 3xx.
    pub ok: AtomicU64,
    /// Requests answered 4xx.
    pub client_errors: AtomicU64,
    /// Requests answered 5xx.
    pub server_errors: AtomicU64,
    /// Requests that got no answer.
    pub unanswered: AtomicU64,
}

impl TrafficStats {
    fn count(&self, outcome: Result<StatusCode, ()>) {
        let counter = match outcome {
            Ok(status) if status.is_server_error() => &self.server_errors,
            Ok(status) if status.is_client_error() => &self.client_errors,
            Ok(_) => &self.ok,
            Err(()) => &self.unanswered,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// All requests sent.
    pub fn total(&self) -> u64 {
        [
            &self.ok,
            &self.client_errors,
            &self.server_errors,
            &self.unanswered,
        ]
        .iter()
        .map(|counter| counter.load(Ordering::Relaxed))
        .sum()
    }
}

/// Runs until the task is dropped or aborted, counting into `stats`.
pub async fn run(config: TrafficConfig, stats: Arc<TrafficStats>) {
    let client = Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap_or_default();
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..config.concurrency.max(1) {
        let generator = Generator {
            client: client.clone(),
            config: config.clone(),
            stats: stats.clone(),
            rng: fastrand::Rng::new(),
        };
        tasks.spawn(generator.virtual_users(worker));
    }
    let burst = Generator {
        client,
        config,
        stats,
        rng: fastrand::Rng::new(),
    };
    tasks.spawn(burst.brute_force());
    while tasks.join_next().await.is_some() {}
}

struct Generator {
    client: Client,
    config: TrafficConfig,
    stats: Arc<TrafficStats>,
    rng: fastrand::Rng,
}

/// A virtual user: who they are and where they come from.
struct Person {
    username: String,
    password: String,
    address: String,
    user_agent: &'static str,
    id: Option<i64>,
}

impl Generator {
    /// One worker's stream of visits by a rotating cast of people.
    async fn virtual_users(mut self, worker: usize) {
        let mut people: Vec<Person> = Vec::new();
        let mut serial = 0u64;
        loop {
            // Mostly returning users; a newcomer a quarter of the time.
            if people.is_empty() || self.rng.f64() < 0.25 {
                serial += 1;
                let person = self.new_person(worker, serial);
                people.push(person);
            }
            let index = self.rng.usize(..people.len());
            let known_ids: Vec<i64> = people.iter().filter_map(|person| person.id).collect();
            if !self.visit(&mut people[index], &known_ids).await {
                people.swap_remove(index);
            }
            self.pause().await;
        }
    }

    fn new_person(&mut self, worker: usize, serial: u64) -> Person {
        const NAMES: &[&str] = &[
            "alice",
            "bruno",
            "chen",
            "dmitri",
            "elena",
            "fatima",
            "gustavo",
            "hana",
            "ivan",
            "julia",
            "kwame",
            "lucia",
            "mehmet",
            "nora",
            "oscar",
            "priya",
            "quentin",
            "rosa",
            "sven",
            "tomoko",
            "umar",
            "valentina",
            "wei",
            "ximena",
            "yusuf",
            "zoe",
        ];
        let name = NAMES[self.rng.usize(..NAMES.len())];
        let run = std::process::id();
        Person {
            username: format!("{name}.{run}.{worker}.{serial}"),
            password: format!("pw-{}-{}", self.rng.u32(..), self.rng.u32(..)),
            address: self.client_address(),
            user_agent: USER_AGENTS[self.rng.usize(..USER_AGENTS.len())],
            id: None,
        }
    }

    /// One visit: sign up if needed, log in, use the profile, maybe log out. Returns whether
    /// the person stays around for another visit.
    async fn visit(&mut self, person: &mut Person, known_ids: &[i64]) -> bool {
        if person.id.is_none() {
            let body = json!({
                "username": person.username,
                "email": format!("{}@example.com", person.username),
                "password": person.password,
            });
            let (status, answer) = self
                .send(
                    person,
                    Method::POST,
                    Service::Users,
                    "/api/signup/",
                    Some(body),
                    None,
                )
                .await;
            match status {
                Some(StatusCode::CREATED) => {
                    person.id = answer.get("id").and_then(Value::as_i64);
                }
                _ => return false,
            }
        }
        if self.rng.f64() < self.config.wrong_password_rate {
            let body = json!({"username": person.username, "password": "guess-123"});
            self.send(
                person,
                Method::POST,
                Service::Auth,
                "/api/login/",
                Some(body),
                None,
            )
            .await;
            self.pause().await;
        }
        let body = json!({"username": person.username, "password": person.password});
        let (status, answer) = self
            .send(
                person,
                Method::POST,
                Service::Auth,
                "/api/login/",
                Some(body),
                None,
            )
            .await;
        let token = match (status, answer.get("token").and_then(Value::as_str)) {
            (Some(StatusCode::OK), Some(token)) => token.to_owned(),
            _ => return true,
        };
        let Some(id) = person.id else { return false };
        // A session of a few to a dozen actions, with pauses: sessions of varied length.
        let actions = 1 + self.rng.usize(..8);
        for _ in 0..actions {
            self.pause().await;
            let roll = self.rng.f64();
            let path = format!("/api/profile/{id}/");
            if roll < 0.45 {
                self.send(
                    person,
                    Method::GET,
                    Service::Users,
                    &path,
                    None,
                    Some(&token),
                )
                .await;
            } else if roll < 0.8 {
                let bio = format!("likes {}", TOPICS[self.rng.usize(..TOPICS.len())]);
                let body = json!({"full_name": person.username.split('.').next(), "bio": bio});
                self.send(
                    person,
                    Method::PUT,
                    Service::Users,
                    &path,
                    Some(body),
                    Some(&token),
                )
                .await;
            } else if roll < 0.85 {
                let path = format!("/api/recommendations/{id}/");
                self.send(
                    person,
                    Method::GET,
                    Service::Users,
                    &path,
                    None,
                    Some(&token),
                )
                .await;
            } else if let Some(other) = known_ids.iter().find(|other| **other != id) {
                // Curiosity: someone else's profile, which authorization refuses.
                let path = format!("/api/profile/{other}/");
                self.send(
                    person,
                    Method::GET,
                    Service::Users,
                    &path,
                    None,
                    Some(&token),
                )
                .await;
            }
        }
        if self.rng.f64() < 0.03 {
            let path = format!("/api/profile/{id}/");
            self.send(
                person,
                Method::DELETE,
                Service::Users,
                &path,
                None,
                Some(&token),
            )
            .await;
            return false;
        }
        if self.rng.f64() < 0.85 {
            self.send(
                person,
                Method::POST,
                Service::Auth,
                "/api/logout/",
                None,
                Some(&token),
            )
            .await;
        }
        true
    }

    /// Every `brute_force_every` (the first soon after the start, so a short demo shows one),
    /// one address tries many passwords for one account.
    async fn brute_force(mut self) {
        let mut round = 0u64;
        let mut wait = self.config.brute_force_every.min(Duration::from_secs(10));
        loop {
            tokio::time::sleep(wait).await;
            wait = self.config.brute_force_every;
            round += 1;
            let attacker = Person {
                username: format!("admin.{}.{round}", std::process::id()),
                password: String::new(),
                address: format!("185.220.101.{}", self.rng.u8(1..=254)),
                user_agent: "python-requests/2.31.0",
                id: None,
            };
            for attempt in 0..15 {
                let body = json!({"username": "admin", "password": format!("hunter{attempt}")});
                self.send(
                    &attacker,
                    Method::POST,
                    Service::Auth,
                    "/api/login/",
                    Some(body),
                    None,
                )
                .await;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    async fn send(
        &mut self,
        person: &Person,
        method: Method,
        service: Service,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> (Option<StatusCode>, Value) {
        let base = match service {
            Service::Users => &self.config.user_service,
            Service::Auth => &self.config.auth,
        };
        let mut request: RequestBuilder = self
            .client
            .request(method, format!("{base}{path}"))
            .header("x-forwarded-for", &person.address)
            .header("user-agent", person.user_agent);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let roll = self.rng.f64();
        if roll < self.config.fault_rate {
            // Three faults in four fail the database inside a query, the rest the request.
            let kind = if self.rng.u8(..4) != 0 {
                DATABASE_FAULTS[self.rng.usize(..DATABASE_FAULTS.len())].0
            } else {
                "upstream_unavailable"
            };
            request = request.header(FAULT_HEADER, kind);
        } else if roll < self.config.fault_rate + self.config.slow_query_rate {
            let millis = 1100 + self.rng.u64(..900);
            request = request.header(SLOW_QUERY_HEADER, millis.to_string());
        }
        match request.send().await {
            Ok(response) => {
                let status = response.status();
                self.stats.count(Ok(status));
                let bytes = response.bytes().await.unwrap_or_default();
                let answer = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                (Some(status), answer)
            }
            Err(_) => {
                self.stats.count(Err(()));
                (None, Value::Null)
            }
        }
    }

    async fn pause(&mut self) {
        let limit = self.config.think_time.as_millis().max(1) as u64;
        tokio::time::sleep(Duration::from_millis(self.rng.u64(..limit))).await;
    }

    /// An address from one of the countries the demo's users live in.
    fn client_address(&mut self) -> String {
        let (first, second) = COUNTRY_PREFIXES[self.rng.usize(..COUNTRY_PREFIXES.len())].1;
        format!(
            "{first}.{second}.{}.{}",
            self.rng.u8(..),
            self.rng.u8(1..=254)
        )
    }
}

#[derive(Debug, Clone, Copy)]
enum Service {
    Users,
    Auth,
}

/// Public address blocks of consumer networks, by country.
const COUNTRY_PREFIXES: &[(&str, (u8, u8))] = &[
    ("US", (73, 162)),
    ("US", (24, 5)),
    ("CA", (99, 224)),
    ("BR", (177, 33)),
    ("GB", (86, 128)),
    ("FR", (90, 84)),
    ("DE", (91, 64)),
    ("NL", (84, 104)),
    ("ES", (88, 12)),
    ("IT", (79, 20)),
    ("PL", (83, 24)),
    ("IN", (49, 36)),
    ("JP", (126, 0)),
    ("KR", (211, 36)),
    ("AU", (1, 128)),
    ("ZA", (105, 224)),
    ("NG", (102, 89)),
    ("MX", (187, 188)),
];

const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
    "okhttp/4.12.0",
];

const TOPICS: &[&str] = &[
    "hiking", "jazz", "chess", "cooking", "rust", "cycling", "film",
];
