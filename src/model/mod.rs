//! Plain domain types. No I/O here: the store persists them, `desk` operates on them.

mod agent;
mod audit;
mod catalogue;
mod consent;
mod customer;
mod ids;
mod mail;
mod message;
mod request;
mod ticket;
mod time;

pub use agent::{is_valid_agent_name, Agent, AgentRole};
pub use audit::{AuditEvent, ChainBreak, ChainVerifier, EventHash, Pseudonym};
pub use catalogue::{Catalogue, CatalogueEntry};
pub use consent::{ConsentActor, ConsentRecord, ConsentState};
pub use customer::{is_plausible_email, normalize_email, Customer, CustomerFlags};
pub use ids::{AgentId, AttachmentId, CustomerId, QuarantineId, RequestId, TicketNo};
pub use mail::{OutboxEntry, QuarantineItem};
pub use message::{Attachment, Author, Delivery, Message, MessageKind};
pub use request::{
    Decision, DecisionOutcome, Extension, PrivacyRequest, RequestKind, RequestStatus, Verification,
};
pub use ticket::{Priority, Status, Ticket};
pub use time::Timestamp;
