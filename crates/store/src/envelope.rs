//! The sealed value format: `version | key slot | nonce | ciphertext+tag`.
//!
//! * `version` (1 byte) lets the codec change later without guessing.
//! * `key slot` names which key sealed it: 0 = the desk's master sealing key,
//!   1 + 16-byte customer id = that customer's data key, 2 + customer id + 16-byte
//!   record key id = a record key bound to that customer (see [`KeySlot::Record`]).
//!   The ids are opaque, so the header holds no personal data, and a value can be
//!   opened without knowing its owner in advance.
//! * The associated data binds the ciphertext to its tree, its sled key and its
//!   header, so a value copied under another key or tree, or relabelled to another
//!   customer, fails authentication.

use super::error::{Result, StoreError};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sealdesk_model::CustomerId;

pub const FORMAT_VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

/// The id of one record key in the keyring.
pub type RecordKeyId = [u8; 16];

/// Which key seals a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeySlot {
    Master,
    Customer(CustomerId),
    /// A deletable record's own key, bound to its customer: the sealing key is
    /// HKDF(customer key, record key, ids), so destroying either one makes the value
    /// unreadable (see the keyring).
    Record {
        customer: CustomerId,
        key_id: RecordKeyId,
    },
}

impl KeySlot {
    fn header(self) -> Vec<u8> {
        match self {
            KeySlot::Master => vec![FORMAT_VERSION, 0],
            KeySlot::Customer(id) => {
                let mut h = vec![FORMAT_VERSION, 1];
                h.extend_from_slice(id.as_bytes());
                h
            }
            KeySlot::Record { customer, key_id } => {
                let mut h = vec![FORMAT_VERSION, 2];
                h.extend_from_slice(customer.as_bytes());
                h.extend_from_slice(&key_id);
                h
            }
        }
    }
}

/// A 256-bit AEAD key.
#[derive(Clone)]
pub(crate) struct SealKey(XChaCha20Poly1305);

impl SealKey {
    pub(crate) fn new(bytes: &[u8; 32]) -> Self {
        SealKey(XChaCha20Poly1305::new(bytes.into()))
    }

    /// Seals `plaintext` with a fresh random nonce and the given associated data.
    pub(crate) fn seal_raw(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).expect("the OS random source failed");
        let ct = self
            .0
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .expect("XChaCha20-Poly1305 cannot fail to encrypt in-memory data");
        let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    /// Opens what [`seal_raw`](Self::seal_raw) produced; `None` if it is not authentic.
    pub(crate) fn open_raw(&self, aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_LEN + 16 {
            return None;
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).ok()?;
        self.0.decrypt(&nonce, Payload { msg: ct, aad }).ok()
    }
}

fn aad(tree: &str, key: &[u8], header: &[u8]) -> Vec<u8> {
    let mut a = Vec::with_capacity(16 + tree.len() + key.len() + header.len());
    a.extend_from_slice(b"sealdesk/v1\0");
    a.extend_from_slice(tree.as_bytes());
    a.push(0);
    a.extend_from_slice(&(key.len() as u32).to_be_bytes());
    a.extend_from_slice(key);
    a.extend_from_slice(header);
    a
}

/// Seals a plaintext for storage at `tree`/`key`.
pub(crate) fn seal(
    slot: KeySlot,
    cipher: &SealKey,
    tree: &str,
    key: &[u8],
    plaintext: &[u8],
) -> Vec<u8> {
    let header = slot.header();
    let body = cipher.seal_raw(&aad(tree, key, &header), plaintext);
    let mut out = header;
    out.extend_from_slice(&body);
    out
}

/// Reads which key sealed a stored value, checking the format version.
pub(crate) fn slot_of(tree: &str, sealed: &[u8]) -> Result<KeySlot> {
    match sealed {
        [FORMAT_VERSION, 0, ..] => Ok(KeySlot::Master),
        [FORMAT_VERSION, 1, rest @ ..] if rest.len() >= 16 => {
            let id: [u8; 16] = rest[..16].try_into().expect("length checked");
            Ok(KeySlot::Customer(CustomerId(id)))
        }
        [FORMAT_VERSION, 2, rest @ ..] if rest.len() >= 32 => {
            let id: [u8; 16] = rest[..16].try_into().expect("length checked");
            let key_id: [u8; 16] = rest[16..32].try_into().expect("length checked");
            Ok(KeySlot::Record {
                customer: CustomerId(id),
                key_id,
            })
        }
        [v, ..] if *v > FORMAT_VERSION => Err(StoreError::UnsupportedFormat(*v)),
        _ => Err(StoreError::Corrupt(format!(
            "unreadable header in tree {tree}"
        ))),
    }
}

/// Opens a stored value with the key its header names (the caller looked it up).
pub(crate) fn open(cipher: &SealKey, tree: &str, key: &[u8], sealed: &[u8]) -> Result<Vec<u8>> {
    let slot = slot_of(tree, sealed)?;
    let header_len = slot.header().len();
    cipher
        .open_raw(
            &aad(tree, key, &sealed[..header_len]),
            &sealed[header_len..],
        )
        .ok_or_else(|| StoreError::Corrupt(format!("tree {tree}, record {}", hex::encode(key))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_tree_key_and_slot() {
        let k = SealKey::new(&[7; 32]);
        let s = seal(KeySlot::Master, &k, "tickets", b"\0\0\0\x01", b"hello");
        assert_eq!(open(&k, "tickets", b"\0\0\0\x01", &s).unwrap(), b"hello");
        assert!(open(&k, "tickets", b"\0\0\0\x02", &s).is_err());
        assert!(open(&k, "agents", b"\0\0\0\x01", &s).is_err());
        assert!(open(&SealKey::new(&[8; 32]), "tickets", b"\0\0\0\x01", &s).is_err());
        let mut flipped = s.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(open(&k, "tickets", b"\0\0\0\x01", &flipped).is_err());
        // Relabelling the slot (master → some customer) breaks authentication too.
        let mut relabelled = vec![FORMAT_VERSION, 1];
        relabelled.extend_from_slice(&[9; 16]);
        relabelled.extend_from_slice(&s[2..]);
        assert!(open(&k, "tickets", b"\0\0\0\x01", &relabelled).is_err());
        // A record slot names both ids, and relabelling either breaks authentication.
        let slot = KeySlot::Record {
            customer: CustomerId([3; 16]),
            key_id: [4; 16],
        };
        let s = seal(slot, &k, "messages", b"m", b"body");
        assert_eq!(slot_of("messages", &s).unwrap(), slot);
        assert_eq!(open(&k, "messages", b"m", &s).unwrap(), b"body");
        let mut other_key = s.clone();
        other_key[2 + 16] ^= 1;
        assert!(open(&k, "messages", b"m", &other_key).is_err());
        assert!(matches!(
            slot_of("t", &[9, 0, 0]),
            Err(StoreError::UnsupportedFormat(9))
        ));
    }
}

/// Random and mutated stored values: `slot_of` and `open` return an error, never panic,
/// and a mutated value never opens (every byte is authenticated: header, nonce, body).
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let k = SealKey::new(&[7; 32]);
            let _ = slot_of("tickets", &bytes);
            prop_assert!(open(&k, "tickets", b"k", &bytes).is_err());
        }

        #[test]
        fn mutations_never_open(
            plain in proptest::collection::vec(any::<u8>(), 0..300),
            customer in any::<bool>(),
            at in any::<prop::sample::Index>(),
            flip in 1u8..=255,
            cut in any::<prop::sample::Index>(),
        ) {
            let k = SealKey::new(&[7; 32]);
            let slot = if customer { KeySlot::Customer(CustomerId([3; 16])) } else { KeySlot::Master };
            let sealed = seal(slot, &k, "messages", b"key", &plain);
            prop_assert_eq!(open(&k, "messages", b"key", &sealed).unwrap(), plain);

            let mut mutated = sealed.clone();
            mutated[at.index(sealed.len())] ^= flip;
            prop_assert!(open(&k, "messages", b"key", &mutated).is_err());

            let truncated = &sealed[..cut.index(sealed.len())];
            prop_assert!(open(&k, "messages", b"key", truncated).is_err());
        }
    }
}
