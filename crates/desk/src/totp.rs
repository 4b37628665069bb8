//! The optional second factor: time-based one-time codes (RFC 6238) for agents.
//!
//! How it fits together:
//!
//! 1. **Enrolment.** `sealdesk agent set NAME --totp` ([`Desk::enrol_totp`]) draws a
//!    random 160-bit secret, keeps it in the agent's record (the agents tree is sealed
//!    with the master key) and prints it once, as an `otpauth://` URI and a QR code for an
//!    authenticator app. It is never shown again: `--totp` once more replaces it,
//!    `--no-totp` removes it.
//! 2. **Login.** The SSH server checks the public key first. For an agent with a secret
//!    a good key is only a partial success: the server narrows the methods to
//!    keyboard-interactive and asks "Verification code: " with echo off, and
//!    [`Desk::check_login_code`] checks the answer here, allowing one step of clock skew
//!    either way and accepting each step at most once per agent. Keyboard-interactive
//!    is answered only after a key was accepted for the same user on the same
//!    connection, so a code alone never logs anyone in. Passwords are never offered.
//! 3. **Refusals.** A wrong code counts against the connection's authentication attempt
//!    limit and takes as long to refuse as a wrong key; it is logged without the code and
//!    audited as `agent.login-refused` with the reason.
//!
//! [`Desk::enrol_totp`]: crate::Desk::enrol_totp
//! [`Desk::check_login_code`]: crate::Desk::check_login_code

use totp_rs::{Builder, Secret, Totp};
use zeroize::Zeroizing;

/// The issuer authenticator apps show next to the agent's name.
pub const ISSUER: &str = "sealdesk";
/// 160 bits, as RFC 4226 recommends.
pub const SECRET_BYTES: usize = 20;
/// Longest answer looked at; anything longer is not a code.
const CODE_MAX: usize = 16;

/// A fresh random secret.
pub(crate) fn generate_secret() -> Zeroizing<Vec<u8>> {
    Zeroizing::new(Secret::generate().as_bytes().to_vec())
}

/// The `otpauth://totp/sealdesk:NAME?secret=…&issuer=sealdesk` URI an authenticator app
/// takes (as a QR code or typed in). It holds the secret: show it once, never log it.
pub(crate) fn otpauth_uri(
    agent: &str,
    secret: &[u8],
) -> Result<Zeroizing<String>, totp_rs::TotpError> {
    Ok(Zeroizing::new(totp(secret, agent)?.to_url()?))
}

/// The time step `code` is valid for at `unix_time` (the current step, or one either
/// side for clock skew), if any. Spaces in the code are ignored ("123 456").
pub fn verify(secret: &[u8], code: &str, unix_time: u64) -> Option<u64> {
    if code.len() > CODE_MAX {
        return None;
    }
    let code: Zeroizing<String> = Zeroizing::new(code.split_whitespace().collect());
    // A stored secret too short to build with would be a damaged record: no code fits it.
    totp(secret, "").ok()?.check(&code, unix_time)
}

/// SHA-1, six digits, 30-second steps, one step of skew: what every authenticator app
/// understands (several silently use SHA-1 whatever the URI says).
fn totp(secret: &[u8], agent: &str) -> Result<Totp, totp_rs::TotpError> {
    Builder::new()
        .with_secret(secret.to_vec())
        .with_account_name(agent)
        .with_issuer(Some(ISSUER))
        .with_skew(1)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238's SHA-1 test secret.
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    fn code_at(secret: &[u8], unix_time: u64) -> String {
        totp(secret, "").unwrap().generate(unix_time).to_string()
    }

    #[test]
    fn codes_match_the_rfc_test_vectors() {
        // RFC 6238 appendix B, cut to six digits.
        assert_eq!(code_at(RFC_SECRET, 59), "287082");
        assert_eq!(code_at(RFC_SECRET, 1_111_111_109), "081804");
        assert_eq!(
            verify(RFC_SECRET, "081804", 1_111_111_109),
            Some(37_037_036)
        );
    }

    #[test]
    fn one_step_of_skew_either_way_and_no_more() {
        let now: u64 = 1_700_000_000;
        let step = now / 30;
        for (offset, expected) in [
            (-60i64, None),
            (-30, Some(step - 1)),
            (0, Some(step)),
            (30, Some(step + 1)),
            (60, None),
        ] {
            let code = code_at(RFC_SECRET, now.checked_add_signed(offset).unwrap());
            assert_eq!(verify(RFC_SECRET, &code, now), expected, "offset {offset}s");
        }
    }

    #[test]
    fn wrong_and_malformed_codes_fail() {
        let now = 1_700_000_000;
        let right = code_at(RFC_SECRET, now);
        let wrong = format!("{:06}", (right.parse::<u32>().unwrap() + 1) % 1_000_000);
        assert_eq!(verify(RFC_SECRET, &wrong, now), None);
        assert_eq!(verify(b"another secret, 20 b", &right, now), None);
        for bad in [
            "",
            "12345",
            "1234567",
            "+12345",
            "abcdef",
            &"1".repeat(1000),
        ] {
            assert_eq!(verify(RFC_SECRET, bad, now), None, "{bad:?}");
        }
        // Spaces are forgiven; a damaged secret matches nothing.
        let spaced = format!("{} {}", &right[..3], &right[3..]);
        assert!(verify(RFC_SECRET, &spaced, now).is_some());
        assert_eq!(verify(&[1, 2, 3], &right, now), None);
    }

    #[test]
    fn secrets_are_160_random_bits() {
        let (a, b) = (generate_secret(), generate_secret());
        assert_eq!(a.len(), SECRET_BYTES);
        assert_eq!(b.len(), SECRET_BYTES);
        assert_ne!(*a, *b);
    }

    #[test]
    fn the_uri_names_the_desk_and_the_agent() {
        let uri = otpauth_uri("alice", RFC_SECRET).unwrap();
        assert_eq!(
            uri.as_str(),
            "otpauth://totp/sealdesk:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=sealdesk"
        );
        let uri = otpauth_uri("bob.smith-2", RFC_SECRET).unwrap();
        assert!(
            uri.starts_with("otpauth://totp/sealdesk:bob.smith-2?secret="),
            "{}",
            *uri
        );
    }
}
