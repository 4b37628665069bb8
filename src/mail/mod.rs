//! Mail in and out. `parse` turns raw RFC 5322 bytes into plain values for the desk;
//! the desk decides where they go (`desk::inbound`).

pub mod parse;

/// A fresh, unique Message-ID (without angle brackets) in `domain`.
pub fn new_message_id(domain: &str) -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS random source failed");
    format!(
        "{}.{}@{}",
        crate::model::Timestamp::now().0,
        hex::encode(bytes),
        domain
    )
}
