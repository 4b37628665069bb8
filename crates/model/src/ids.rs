//! Opaque identifiers. sled keys are built from these, never from personal data.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! opaque_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub struct $name(pub [u8; 16]);

        impl $name {
            /// A fresh random id from the operating system's CSPRNG.
            pub fn random() -> Self {
                let mut bytes = [0u8; 16];
                getrandom::fill(&mut bytes).expect("the OS random source failed");
                Self(bytes)
            }

            pub fn as_bytes(&self) -> &[u8; 16] {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "_{}"), hex::encode(self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }

        impl FromStr for $name {
            type Err = super::ParseError;
            fn from_str(s: &str) -> Result<Self, super::ParseError> {
                let hexpart = s.strip_prefix(concat!($prefix, "_")).unwrap_or(s);
                let bytes = hex::decode(hexpart)
                    .ok()
                    .and_then(|b| <[u8; 16]>::try_from(b).ok())
                    .ok_or(super::ParseError::NotAnId { prefix: $prefix })?;
                Ok(Self(bytes))
            }
        }
    };
}

opaque_id!(
    /// A customer: the data subject whose key seals their personal data.
    CustomerId,
    "cus"
);
opaque_id!(AgentId, "agt");
opaque_id!(AttachmentId, "att");
opaque_id!(RequestId, "req");
opaque_id!(QuarantineId, "qua");
opaque_id!(NoticeId, "ntc");
opaque_id!(
    /// One export archive, kept sealed in the store.
    ExportId,
    "exp"
);

/// The human-friendly ticket number agents and customers quote: #1, #2, …
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Debug)]
pub struct TicketNo(pub u64);

impl fmt::Display for TicketNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

impl FromStr for TicketNo {
    type Err = super::ParseError;
    fn from_str(s: &str) -> Result<Self, super::ParseError> {
        s.trim_start_matches('#')
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .map(TicketNo)
            .ok_or_else(|| super::ParseError::NotATicketNumber {
                given: s.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text() {
        let id = CustomerId::random();
        assert_eq!(id.to_string().parse::<CustomerId>().unwrap(), id);
        assert!(id.to_string().starts_with("cus_"));
        assert!("cus_zz".parse::<CustomerId>().is_err());
        assert_eq!("#12".parse::<TicketNo>().unwrap(), TicketNo(12));
        assert!("0".parse::<TicketNo>().is_err());
    }
}
