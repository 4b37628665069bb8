use super::{CustomerId, TicketNo, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A conversation with one customer. The subject is the customer's personal data; the
/// rest is workflow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub number: TicketNo,
    pub subject: String,
    pub status: Status,
    pub priority: Priority,
    /// Agent name.
    pub assignee: Option<String>,
    pub tags: Vec<String>,
    pub customer: CustomerId,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub due: Option<Timestamp>,
}

macro_rules! word_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $word:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                let wanted = s.trim().to_ascii_lowercase();
                $name::ALL.iter().copied().find(|v| v.as_str() == wanted).ok_or_else(|| {
                    let words: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                    format!("unknown {} {:?}: use one of {}", stringify!($name).to_lowercase(), s, words.join(", "))
                })
            }
        }
    };
}

word_enum!(
    /// Where a ticket is in its life.
    Status { New => "new", Open => "open", Pending => "pending", Solved => "solved", Closed => "closed" }
);
word_enum!(Priority { Low => "low", Normal => "normal", High => "high", Urgent => "urgent" });

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_parse_and_print() {
        assert_eq!("Pending".parse::<Status>().unwrap(), Status::Pending);
        assert_eq!(Priority::Urgent.to_string(), "urgent");
        let err = "later".parse::<Status>().unwrap_err();
        assert!(err.contains("new, open, pending, solved, closed"), "{err}");
    }
}
