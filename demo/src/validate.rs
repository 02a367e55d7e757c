//! Input rules shared by the data manager and the proxies that validate before forwarding.

/// Checks a signup: a 3–32 character username of letters, digits, `_`, `.` or `-`, an email
/// address and a password of at least 8 characters.
pub fn signup(username: &str, email_address: &str, password: &str) -> Result<(), String> {
    self::username(username)?;
    email(email_address)?;
    if password.chars().count() < 8 {
        return Err("password must have at least 8 characters".into());
    }
    Ok(())
}

/// Checks a username.
pub fn username(username: &str) -> Result<(), String> {
    let length = username.chars().count();
    if !(3..=32).contains(&length) {
        return Err("username must have 3 to 32 characters".into());
    }
    if !username
        .chars()
        .all(|character| character.is_ascii_alphanumeric() || "_.-".contains(character))
    {
        return Err("username may contain letters, digits, '_', '.' and '-' only".into());
    }
    Ok(())
}

/// Checks an email address's shape.
pub fn email(email: &str) -> Result<(), String> {
    match email.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && domain.contains('.') && email.len() <= 254 =>
        {
            Ok(())
        }
        _ => Err("email must look like name@example.com".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signups_are_checked() {
        assert!(signup("alice_01", "alice@example.com", "correct horse").is_ok());
        assert!(signup("al", "alice@example.com", "correct horse").is_err());
        assert!(signup("alice!", "alice@example.com", "correct horse").is_err());
        assert!(signup("alice", "alice.example.com", "correct horse").is_err());
        assert!(signup("alice", "alice@example.com", "short").is_err());
    }
}
