use super::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// One entry in the tamper-evident audit log. It names the customer only by pseudonym
/// (a keyed hash of their id), never by personal data, so the log can outlive erasure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Position in the log, from 1, without gaps.
    pub seq: u64,
    pub at: Timestamp,
    /// Agent name, `cli:<user>` or `system`.
    pub actor: String,
    /// SHA-256 fingerprint of the SSH key the agent logged in with.
    pub key_fingerprint: Option<String>,
    /// Where the action came from: `ssh 203.0.113.5:50122`, `local uid 1000`, `smtp …`.
    pub source: String,
    /// Dotted action name: `ticket.create`, `customer.view`, `agent.add`, …
    pub action: String,
    /// Opaque ids of what was acted on: `#12`, `agt_…`, `req_…`.
    pub targets: Vec<String>,
    pub customer: Option<Pseudonym>,
    pub prev_hash: EventHash,
}

/// An audit event as `audit export --json` prints it: times as RFC 3339, hashes and
/// pseudonyms as text. Fields in alphabetical order, the order the output always had.
#[derive(Serialize)]
pub struct AuditEventJson<'a> {
    pub action: &'a str,
    pub actor: &'a str,
    #[serde(serialize_with = "Timestamp::serialize_rfc3339")]
    pub at: Timestamp,
    pub customer: Option<&'a str>,
    pub key_fingerprint: Option<&'a str>,
    pub prev_hash: String,
    pub seq: u64,
    pub source: &'a str,
    pub targets: &'a [String],
}

impl<'a> From<&'a AuditEvent> for AuditEventJson<'a> {
    fn from(e: &'a AuditEvent) -> Self {
        AuditEventJson {
            action: &e.action,
            actor: &e.actor,
            at: e.at,
            customer: e.customer.as_ref().map(|p| p.0.as_str()),
            key_fingerprint: e.key_fingerprint.as_deref(),
            prev_hash: e.prev_hash.to_string(),
            seq: e.seq,
            source: &e.source,
            targets: &e.targets,
        }
    }
}

/// A stable, non-reversible stand-in for a customer in the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Pseudonym(pub String);

impl fmt::Display for Pseudonym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct EventHash(pub [u8; 32]);

impl EventHash {
    /// What the first event points back to.
    pub const GENESIS: EventHash = EventHash([0; 32]);
}

impl fmt::Debug for EventHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Display for EventHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl AuditEvent {
    /// SHA-256 over a domain tag and the event's canonical bincode encoding (which
    /// includes `prev_hash`, chaining it to everything before).
    pub fn hash(&self) -> EventHash {
        let encoded = bincode::serde::encode_to_vec(self, bincode::config::standard())
            .expect("encoding an audit event into memory cannot fail");
        let mut h = Sha256::new();
        h.update(b"sealdesk audit v1\0");
        h.update(&encoded);
        EventHash(h.finalize().into())
    }
}

/// Why a chain does not verify.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("event {found} is out of place: expected event {expected} (an event was deleted, inserted or reordered)")]
    Sequence { expected: u64, found: u64 },
    #[error("event {seq} does not point to the hash of event {prev} (an earlier event was changed, deleted or reordered)")]
    Link { seq: u64, prev: u64 },
    #[error("the log ends at event {last} but the recorded head is event {head_seq} (events at the end were deleted or replaced)")]
    Head { last: u64, head_seq: u64 },
}

/// Walks a log in order and checks every link. Feed each event, then `finish` with the
/// head (last sequence number and hash) recorded separately, which catches a truncated
/// tail.
#[derive(Debug, Default)]
pub struct ChainVerifier {
    last_seq: u64,
    last_hash: EventHash,
}

impl ChainVerifier {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, event: &AuditEvent) -> Result<(), ChainBreak> {
        let expected = self.last_seq + 1;
        if event.seq != expected {
            return Err(ChainBreak::Sequence {
                expected,
                found: event.seq,
            });
        }
        if event.prev_hash != self.last_hash {
            return Err(ChainBreak::Link {
                seq: event.seq,
                prev: self.last_seq,
            });
        }
        self.last_seq = event.seq;
        self.last_hash = event.hash();
        Ok(())
    }

    /// Number of events checked so far.
    pub fn count(&self) -> u64 {
        self.last_seq
    }

    pub fn finish(self, head: (u64, EventHash)) -> Result<u64, ChainBreak> {
        if head != (self.last_seq, self.last_hash) {
            return Err(ChainBreak::Head {
                last: self.last_seq,
                head_seq: head.0,
            });
        }
        Ok(self.last_seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: u64) -> Vec<AuditEvent> {
        let mut prev = EventHash::GENESIS;
        (1..=n)
            .map(|seq| {
                let e = AuditEvent {
                    seq,
                    at: Timestamp(seq as i64),
                    actor: "alice".into(),
                    key_fingerprint: None,
                    source: "test".into(),
                    action: "ticket.view".into(),
                    targets: vec![format!("#{seq}")],
                    customer: None,
                    prev_hash: prev,
                };
                prev = e.hash();
                e
            })
            .collect()
    }

    fn verify(events: &[AuditEvent], head: (u64, EventHash)) -> Result<u64, ChainBreak> {
        let mut v = ChainVerifier::new();
        for e in events {
            v.push(e)?;
        }
        v.finish(head)
    }

    #[test]
    fn audit_json_is_what_the_hand_built_json_was() {
        let mut events = chain(2);
        events[1].key_fingerprint = Some("SHA256:abc".into());
        events[1].customer = Some(Pseudonym("cus_pseudo".into()));
        for e in &events {
            let by_hand = serde_json::json!({
                "seq": e.seq, "at": e.at.rfc3339(), "actor": e.actor, "key_fingerprint": e.key_fingerprint,
                "source": e.source, "action": e.action, "targets": e.targets,
                "customer": e.customer.as_ref().map(|p| p.0.clone()), "prev_hash": e.prev_hash.to_string(),
            });
            let derived = AuditEventJson::from(e);
            assert_eq!(
                serde_json::to_string_pretty(&derived).unwrap(),
                serde_json::to_string_pretty(&by_hand).unwrap()
            );
        }
    }

    #[test]
    fn intact_chain_verifies_and_every_tampering_fails() {
        let events = chain(5);
        let head = (5, events[4].hash());
        assert_eq!(verify(&events, head), Ok(5));

        let mut edited = events.clone();
        edited[2].action = "ticket.delete".into();
        assert!(matches!(
            verify(&edited, head),
            Err(ChainBreak::Link { seq: 4, .. })
        ));

        let mut deleted = events.clone();
        deleted.remove(1);
        assert!(matches!(
            verify(&deleted, head),
            Err(ChainBreak::Sequence { .. })
        ));

        let mut reordered = events.clone();
        reordered.swap(1, 2);
        assert!(verify(&reordered, head).is_err());

        assert!(matches!(
            verify(&events[..4], head),
            Err(ChainBreak::Head { .. })
        ));
    }
}
