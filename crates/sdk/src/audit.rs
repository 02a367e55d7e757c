//! Audit events: `log_user_action` and `log_authentication_event`.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use logfleet_model::{Level, LogCategory, fields};

use crate::context::current_context;
use crate::handle::current_shared;
use crate::record::{FieldValue, Key, Record, Val};

/// What a user did, the `user_action` of an audit event.
///
/// The common actions are variants; anything else is [`Custom`](Self::Custom), made from a
/// string (`UserAction::from("INVOICE_PAID")`).
///
/// ```
/// use logfleet_sdk::UserAction;
///
/// assert_eq!(UserAction::ProfileUpdated.as_str(), "PROFILE_UPDATED");
/// assert_eq!(UserAction::from("INVOICE_PAID").as_str(), "INVOICE_PAID");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UserAction {
    /// `USER_CREATED`
    UserCreated,
    /// `USER_UPDATED`
    UserUpdated,
    /// `USER_DELETED`
    UserDeleted,
    /// `PROFILE_UPDATED`
    ProfileUpdated,
    /// `PASSWORD_CHANGED`
    PasswordChanged,
    /// `EMAIL_CHANGED`
    EmailChanged,
    /// `ROLE_CHANGED`
    RoleChanged,
    /// Any other action, spelled as given.
    Custom(Cow<'static, str>),
}

impl UserAction {
    /// The `user_action` value.
    pub fn as_str(&self) -> &str {
        match self {
            Self::UserCreated => "USER_CREATED",
            Self::UserUpdated => "USER_UPDATED",
            Self::UserDeleted => "USER_DELETED",
            Self::ProfileUpdated => "PROFILE_UPDATED",
            Self::PasswordChanged => "PASSWORD_CHANGED",
            Self::EmailChanged => "EMAIL_CHANGED",
            Self::RoleChanged => "ROLE_CHANGED",
            Self::Custom(action) => action,
        }
    }
}

impl From<&'static str> for UserAction {
    fn from(action: &'static str) -> Self {
        Self::Custom(Cow::Borrowed(action))
    }
}

impl From<String> for UserAction {
    fn from(action: String) -> Self {
        Self::Custom(Cow::Owned(action))
    }
}

/// An authentication event, the `user_action` of `log_authentication_event`.
///
/// Each variant knows its action name and whether it is a success; failures are logged at
/// level `warning`.
///
/// ```
/// use logfleet_sdk::AuthEvent;
///
/// let failed = AuthEvent::LoginFailed { reason: "invalid_password".into() };
/// assert_eq!(failed.action(), "LOGIN_FAILED");
/// assert!(!failed.success());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthEvent {
    /// `LOGIN_SUCCESS`
    LoginSuccess,
    /// `LOGIN_FAILED`, with the `reason` (e.g. `invalid_password`, `unknown_user`).
    LoginFailed {
        /// Why the login was refused.
        reason: Cow<'static, str>,
    },
    /// `LOGOUT`, with `session_duration_ms` when known.
    Logout {
        /// How long the session lasted.
        session_duration: Option<Duration>,
    },
    /// `PASSWORD_CHANGED`
    PasswordChanged,
    /// `PASSWORD_RESET_REQUESTED`
    PasswordResetRequested,
    /// `TOKEN_REFRESHED`
    TokenRefreshed,
    /// `SESSION_EXPIRED`
    SessionExpired,
    /// `ACCOUNT_LOCKED`, with the `reason`.
    AccountLocked {
        /// Why the account was locked.
        reason: Cow<'static, str>,
    },
    /// Any other authentication action.
    Custom {
        /// The `user_action` value.
        action: Cow<'static, str>,
        /// Whether it succeeded.
        success: bool,
    },
}

impl AuthEvent {
    /// The `user_action` value.
    pub fn action(&self) -> &str {
        match self {
            Self::LoginSuccess => "LOGIN_SUCCESS",
            Self::LoginFailed { .. } => "LOGIN_FAILED",
            Self::Logout { .. } => "LOGOUT",
            Self::PasswordChanged => "PASSWORD_CHANGED",
            Self::PasswordResetRequested => "PASSWORD_RESET_REQUESTED",
            Self::TokenRefreshed => "TOKEN_REFRESHED",
            Self::SessionExpired => "SESSION_EXPIRED",
            Self::AccountLocked { .. } => "ACCOUNT_LOCKED",
            Self::Custom { action, .. } => action,
        }
    }

    /// The `success` value.
    pub fn success(&self) -> bool {
        match self {
            Self::LoginFailed { .. } | Self::AccountLocked { .. } => false,
            Self::Custom { success, .. } => *success,
            _ => true,
        }
    }
}

/// An audit event being built; [`emit`](Self::emit) sends it.
///
/// `user_id`, `user_name` and `client_ip` default to the current request's (see
/// [`set_user`](crate::set_user)); set them explicitly for events about someone else or
/// outside a request. The event always carries `user_action` and `success`.
///
/// ```
/// use logfleet_sdk::{AuthEvent, log_authentication_event};
/// use std::time::Duration;
///
/// log_authentication_event(AuthEvent::Logout { session_duration: Some(Duration::from_secs(600)) })
///     .user(42, "alice")
///     .session_id("7f3a")
///     .field("device", "mobile")
///     .emit();
/// ```
#[derive(Debug, Clone)]
#[must_use = "call .emit() to send the event"]
pub struct AuditEvent {
    action: Cow<'static, str>,
    success: bool,
    kind: &'static str,
    reason: Option<String>,
    session_duration: Option<Duration>,
    user_id: Option<String>,
    user_name: Option<String>,
    client_ip: Option<IpAddr>,
    session_id: Option<String>,
    target_entity: Option<String>,
    message: Option<String>,
    fields: Vec<(Key, FieldValue)>,
}

/// Logs a user action (audit category); the seed's `log_user_action`.
///
/// ```
/// use logfleet_sdk::{UserAction, log_user_action};
///
/// log_user_action(UserAction::UserCreated)
///     .user(42, "alice")
///     .target_entity("USER")
///     .emit();
/// ```
pub fn log_user_action(action: impl Into<UserAction>) -> AuditEvent {
    let action = action.into();
    let action = match action {
        UserAction::Custom(custom) => custom,
        known => Cow::Owned(known.as_str().to_owned()),
    };
    AuditEvent::new(action, true, "user action")
}

/// Logs an authentication event (audit category); the seed's `log_authentication_event`.
///
/// ```
/// use logfleet_sdk::{AuthEvent, log_authentication_event};
/// use std::net::{IpAddr, Ipv4Addr};
///
/// log_authentication_event(AuthEvent::LoginFailed { reason: "invalid_password".into() })
///     .user_name("alice")
///     .client_ip(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7)))
///     .emit();
/// ```
pub fn log_authentication_event(event: AuthEvent) -> AuditEvent {
    let mut audit = AuditEvent::new(
        Cow::Owned(event.action().to_owned()),
        event.success(),
        "authentication",
    );
    match event {
        AuthEvent::LoginFailed { reason } | AuthEvent::AccountLocked { reason } => {
            audit.reason = Some(reason.into_owned());
        }
        AuthEvent::Logout { session_duration } => audit.session_duration = session_duration,
        _ => {}
    }
    audit
}

impl AuditEvent {
    fn new(action: Cow<'static, str>, success: bool, kind: &'static str) -> Self {
        Self {
            action,
            success,
            kind,
            reason: None,
            session_duration: None,
            user_id: None,
            user_name: None,
            client_ip: None,
            session_id: None,
            target_entity: None,
            message: None,
            fields: Vec::new(),
        }
    }

    /// Sets `user_id` and `user_name`.
    pub fn user(self, user_id: impl fmt::Display, user_name: impl fmt::Display) -> Self {
        self.user_id(user_id).user_name(user_name)
    }

    /// Sets `user_id`.
    pub fn user_id(mut self, user_id: impl fmt::Display) -> Self {
        self.user_id = Some(user_id.to_string());
        self
    }

    /// Sets `user_name`.
    pub fn user_name(mut self, user_name: impl fmt::Display) -> Self {
        self.user_name = Some(user_name.to_string());
        self
    }

    /// Sets `client_ip`.
    pub fn client_ip(mut self, client_ip: IpAddr) -> Self {
        self.client_ip = Some(client_ip);
        self
    }

    /// Sets `session_id`.
    pub fn session_id(mut self, session_id: impl Into<String>) -> Self {
        self.session_id = Some(session_id.into());
        self
    }

    /// Sets `target_entity`, what the action was performed on.
    pub fn target_entity(mut self, target_entity: impl Into<String>) -> Self {
        self.target_entity = Some(target_entity.into());
        self
    }

    /// Sets `reason`.
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Overrides `success` (failures are logged at level `warning`).
    pub fn success(mut self, success: bool) -> Self {
        self.success = success;
        self
    }

    /// Replaces the default message (`user action USER_CREATED`, `authentication
    /// LOGIN_FAILED`).
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Adds any other field.
    pub fn field(
        mut self,
        key: impl Into<Cow<'static, str>>,
        value: impl Into<FieldValue>,
    ) -> Self {
        self.fields.push((key.into(), value.into()));
        self
    }

    /// Sends the event.
    pub fn emit(self) {
        let Some(shared) = current_shared() else {
            return;
        };
        let level = if self.success {
            Level::Info
        } else {
            Level::Warning
        };
        if !shared.enabled(level) {
            return;
        }
        let message = self
            .message
            .unwrap_or_else(|| format!("{} {}", self.kind, self.action));
        let mut record =
            Record::with_message(LogCategory::Audit, level, &message, 10 + self.fields.len());
        let context = current_context();
        record
            .str(fields::USER_ACTION, &self.action)
            .val(fields::SUCCESS, Val::Bool(self.success));
        if let Some(user_id) = &self.user_id {
            record.str(fields::USER_ID, user_id);
        }
        if let Some(user_name) = &self.user_name {
            record.str(fields::USER_NAME, user_name);
        }
        if let Some(reason) = &self.reason {
            record.str(fields::REASON, reason);
        }
        let client_ip = self
            .client_ip
            .or_else(|| context.as_ref().and_then(|context| context.client_ip));
        if let Some(client_ip) = client_ip {
            record.display(fields::CLIENT_IP, &client_ip);
        }
        if let Some(session_id) = &self.session_id {
            record.str(fields::SESSION_ID, session_id);
        }
        if let Some(duration) = self.session_duration {
            let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
            record.val(fields::SESSION_DURATION_MS, Val::U64(millis));
        }
        if let Some(target_entity) = &self.target_entity {
            record.str(fields::TARGET_ENTITY, target_entity);
        }
        for (key, value) in self.fields {
            record.field_value(key, value);
        }
        record.context = context;
        shared.enqueue(record);
    }
}
