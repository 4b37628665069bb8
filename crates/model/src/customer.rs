use super::{CustomerId, Timestamp};
use serde::{Deserialize, Serialize};

/// A person who writes to the desk. Everything here is their personal data and is
/// sealed with their own data key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub id: CustomerId,
    /// Normalised addresses (see [`normalize_email`]); the first is the primary one.
    pub emails: Vec<String>,
    pub name: String,
    /// BCP 47 tag such as `de-AT`, when known.
    pub locale: Option<String>,
    pub flags: CustomerFlags,
    pub created: Timestamp,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerFlags {
    /// Under the configured age of consent: consent needs a guardian.
    pub minor: bool,
    /// Erasure is refused while set.
    pub legal_hold: bool,
    /// A customer with this address was erased before.
    pub previously_erased: bool,
    /// Processing is restricted ("stop use"): replies and non-mandatory mail to them
    /// are refused unless an admin overrides with a reason.
    pub restricted: bool,
}

impl CustomerFlags {
    /// The flags that are set, as words ("minor", "legal hold", "previously erased").
    pub fn labels(&self) -> Vec<&'static str> {
        [
            (self.minor, "minor"),
            (self.legal_hold, "legal hold"),
            (self.previously_erased, "previously erased"),
            (self.restricted, "restricted"),
        ]
        .into_iter()
        .filter_map(|(set, label)| set.then_some(label))
        .collect()
    }
}

impl Customer {
    pub fn new(email: &str, name: &str) -> Self {
        Customer {
            id: CustomerId::random(),
            emails: vec![normalize_email(email)],
            name: name.to_string(),
            locale: None,
            flags: CustomerFlags::default(),
            created: Timestamp::now(),
        }
    }

    pub fn primary_email(&self) -> &str {
        self.emails.first().map(String::as_str).unwrap_or("")
    }
}

/// Addresses compare case-insensitively in practice (RFC 5321 allows a case-sensitive
/// local part, but no real mailbox provider uses one), so they are keyed in lower case.
pub fn normalize_email(email: &str) -> String {
    email.trim().trim_matches(['<', '>']).to_lowercase()
}

/// The address of a mailbox as written in a header (`Ann <ann@example.com>` or a bare
/// `ann@example.com`), normalised.
pub fn mailbox_address(mailbox: &str) -> String {
    let inner = match (mailbox.rfind('<'), mailbox.rfind('>')) {
        (Some(open), Some(close)) if open < close => &mailbox[open + 1..close],
        _ => mailbox,
    };
    normalize_email(inner)
}

/// A plausible address: one `@`, something on both sides, no spaces or controls.
pub fn is_plausible_email(email: &str) -> bool {
    let e = normalize_email(email);
    match e.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailbox_addresses() {
        assert_eq!(
            mailbox_address("Ann Lee <Ann@Example.com>"),
            "ann@example.com"
        );
        assert_eq!(mailbox_address(" bob@example.org "), "bob@example.org");
        assert_eq!(
            mailbox_address("\"a <b>\" <c@example.net>"),
            "c@example.net"
        );
    }

    #[test]
    fn flags_json_is_what_the_hand_built_json_was() {
        let f = CustomerFlags {
            minor: true,
            legal_hold: false,
            previously_erased: true,
            restricted: true,
        };
        let by_hand = serde_json::json!({ "minor": f.minor, "legal_hold": f.legal_hold, "previously_erased": f.previously_erased, "restricted": f.restricted });
        assert_eq!(serde_json::to_value(&f).unwrap(), by_hand);
    }

    #[test]
    fn normalises_and_checks_addresses() {
        assert_eq!(normalize_email(" <Ann@Example.COM> "), "ann@example.com");
        assert!(is_plausible_email("ann@example.com"));
        assert!(!is_plausible_email("ann example.com"));
        assert!(!is_plausible_email("a@b@c"));
        assert!(!is_plausible_email("@example.com"));
    }
}
