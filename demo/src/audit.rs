//! The data manager's audit trail: one function per event, so the handlers read as what
//! happened and the vocabulary (`USER_CREATED`, `LOGIN_FAILED` with its `reason`…) lives in
//! one place. The request's context (request id, client address, user) comes with each event
//! from the SDK; session ids are stable random ids, never the bearer token.

use std::time::Duration;

use logfleet_sdk::{AuthEvent, UserAction, log_authentication_event, log_user_action};

use crate::db::User;

/// A new account.
pub fn user_created(id: i64, username: &str) {
    log_user_action(UserAction::UserCreated)
        .user(id, username)
        .target_entity("USER")
        .emit();
}

/// A profile changed by its owner.
pub fn profile_updated(user: &User) {
    log_user_action(UserAction::ProfileUpdated)
        .user(user.id, &user.username)
        .target_entity("USER")
        .emit();
}

/// An account deleted by its owner.
pub fn user_deleted(user: &User) {
    log_user_action(UserAction::UserDeleted)
        .user(user.id, &user.username)
        .target_entity("USER")
        .emit();
}

/// A refused attempt to act on someone else's profile.
pub fn access_denied(user: &User, target_user_id: i64, action: &str) {
    log_user_action("ACCESS_DENIED")
        .user(user.id, &user.username)
        .success(false)
        .reason(format!("{action} on user {target_user_id}"))
        .target_entity("USER")
        .emit();
}

/// A login refused for `reason` (`unknown_user`, `invalid_password`, `too_many_attempts`).
pub fn login_failed(username: &str, reason: &'static str) {
    log_authentication_event(AuthEvent::LoginFailed {
        reason: reason.into(),
    })
    .field("username", username.to_owned())
    .emit();
}

/// A successful login opening session `session_id`.
pub fn login_succeeded(user: &User, session_id: &str) {
    log_authentication_event(AuthEvent::LoginSuccess)
        .user(user.id, &user.username)
        .session_id(session_id)
        .emit();
}

/// A logout closing session `session_id` after `duration`.
pub fn logged_out(user: &User, session_id: &str, duration: Duration) {
    log_authentication_event(AuthEvent::Logout {
        session_duration: Some(duration),
    })
    .user(user.id, &user.username)
    .session_id(session_id)
    .emit();
}
