//! Reading values written by an earlier version whose struct has grown since.
//!
//! The rule: a stored struct grows only at its end, and only by fields whose empty
//! value bincode encodes as zero bytes — `Option` (None), `Vec`, `String` and maps
//! (empty), integers (0), `bool` (false), and structs made of those (for example
//! `Message::parties`, `Ticket::participants`). A record written before such a field
//! existed ends early; it is read as if its missing tail were zeros, so the new fields
//! come out empty. Nothing is rewritten: the record keeps its old shape until the next
//! write of it. A record that is damaged some other way (a wrong tag, a bad length) is
//! still an error, and so is one that ends early by more than new fields can explain.
//! (Padding cannot hide damage: every value is opened through its AEAD tag first, so
//! a record cut short on disk never gets here.)

use serde::de::DeserializeOwned;

/// How many bytes of zeros an old record may be missing: room for a few dozen new
/// fields. More than that is not a shorter version of this type.
const MAX_MISSING: usize = 64;

/// Decodes one value of the current shape, or of an earlier, shorter one.
pub(crate) fn decode<T: DeserializeOwned>(plain: &[u8]) -> Result<T, bincode::error::DecodeError> {
    let config = bincode::config::standard();
    match bincode::serde::decode_from_slice(plain, config) {
        Ok((value, _)) => Ok(value),
        Err(bincode::error::DecodeError::UnexpectedEnd { .. }) => {
            let mut padded = zeroize::Zeroizing::new(Vec::with_capacity(plain.len() + MAX_MISSING));
            padded.extend_from_slice(plain);
            padded.resize(plain.len() + MAX_MISSING, 0);
            let (value, used) = bincode::serde::decode_from_slice(&padded, config)?;
            // Every byte of the record must have been read: a record that ends early
            // and then has bytes we skipped is not an older version of this type.
            if used < plain.len() {
                return Err(bincode::error::DecodeError::Other("trailing bytes"));
            }
            Ok(value)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Before {
        number: u64,
        name: String,
        tags: Vec<String>,
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq, Default)]
    struct Inner {
        to: Vec<String>,
        cc: Vec<String>,
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct After {
        number: u64,
        name: String,
        tags: Vec<String>,
        address: Option<String>,
        parties: Inner,
        count: u32,
        flag: bool,
    }

    fn encode<T: Serialize>(v: &T) -> Vec<u8> {
        bincode::serde::encode_to_vec(v, bincode::config::standard()).unwrap()
    }

    #[test]
    fn an_old_record_reads_with_its_new_fields_empty() {
        let old = Before {
            number: 7,
            name: "seven".into(),
            tags: vec!["a".into(), "b".into()],
        };
        let new: After = decode(&encode(&old)).unwrap();
        assert_eq!(
            new,
            After {
                number: 7,
                name: "seven".into(),
                tags: vec!["a".into(), "b".into()],
                address: None,
                parties: Inner::default(),
                count: 0,
                flag: false,
            }
        );
    }

    #[test]
    fn a_current_record_reads_as_written() {
        let v = After {
            number: 1,
            name: "x".into(),
            tags: vec![],
            address: Some("help@example.com".into()),
            parties: Inner {
                to: vec!["a@example.com".into()],
                cc: vec![],
            },
            count: 3,
            flag: true,
        };
        assert_eq!(decode::<After>(&encode(&v)).unwrap(), v);
    }

    #[test]
    fn damage_is_still_an_error() {
        // (A sealed value cannot be cut short unnoticed: the AEAD tag covers it. What
        // reaches here is what our own writer wrote, whole.)
        let mut bad = encode(&Before {
            number: 7,
            name: "seven".into(),
            tags: vec!["a".into()],
        });
        bad[1] = 0xfb; // a varint that announces a string longer than any padding
        assert!(decode::<Before>(&bad).is_err());
        // Bytes left over after a whole shorter record: not an older shape.
        let mut longer = encode(&After {
            number: 1,
            name: String::new(),
            tags: vec![],
            address: None,
            parties: Inner::default(),
            count: 0,
            flag: false,
        });
        longer.truncate(longer.len() - 1);
        longer.extend_from_slice(&[0xff, 0xff, 0xff]);
        assert!(decode::<After>(&longer).is_err());
    }

    /// The shapes Part 8 wrote, field for field: a data dir from then still opens.
    #[test]
    fn part_8_messages_and_agents_read() {
        use sealdesk_model::*;
        #[derive(Serialize)]
        struct MessageV8 {
            ticket: TicketNo,
            seq: u32,
            kind: MessageKind,
            author: Author,
            at: Timestamp,
            text: String,
            message_id: Option<String>,
            in_reply_to: Option<String>,
            references: Vec<String>,
            attachments: Vec<Attachment>,
            delivery: Option<Delivery>,
        }
        #[derive(Serialize)]
        struct AgentV8 {
            id: AgentId,
            name: String,
            role: AgentRole,
            keys: Vec<String>,
            theme: Option<String>,
            totp_secret: Option<Vec<u8>>,
            created: Timestamp,
        }
        let old = MessageV8 {
            ticket: TicketNo(4),
            seq: 2,
            kind: MessageKind::Outbound,
            author: Author::Agent {
                name: "alice".into(),
            },
            at: Timestamp(5),
            text: "Unplug it.".into(),
            message_id: Some("r@desk".into()),
            in_reply_to: None,
            references: vec!["a@b".into()],
            attachments: vec![],
            delivery: Some(Delivery::Sent { at: Timestamp(6) }),
        };
        let m: Message = decode(&encode(&old)).unwrap();
        assert_eq!(m.text, "Unplug it.");
        assert_eq!(m.delivery, Some(Delivery::Sent { at: Timestamp(6) }));
        assert!(m.parties.is_empty());
        let a: Agent = decode(&encode(&AgentV8 {
            id: AgentId([1; 16]),
            name: "alice".into(),
            role: AgentRole::Admin,
            keys: vec!["ssh-ed25519 AAAA".into()],
            theme: None,
            totp_secret: Some(vec![9]),
            created: Timestamp(1),
        }))
        .unwrap();
        assert_eq!((a.name.as_str(), a.signature), ("alice", None));
        assert_eq!(a.totp_secret, Some(vec![9]));
    }
}
