//! Throwaway desks filled quickly: records go straight through the store's typed
//! accessors (the same sealing and keys as the desk's operations) and are flushed once
//! at the end, instead of one fsync per ticket as a live desk would.

use super::mailgen::{Words, SUPPORT};
use super::ssh_client::AgentKey;
use super::{note, Place, Rng, Scratch};
use anyhow::{Context, Result};
use sealdesk_desk::config::Config;
use sealdesk_desk::{Actor, Desk};
use sealdesk_model::{
    AgentRole, Attachment, AttachmentId, AuditEvent, Author, Customer, Decision, DecisionOutcome,
    EventHash, Message, MessageKind, Priority, PrivacyRequest, RequestId, RequestKind,
    RequestStatus, SlaClock, Status, Ticket, Timestamp,
};
use sealdesk_store::{create_private_dir, Paths, Store, Tx};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Who the benchmark's own actions are audited as.
pub(crate) fn bench_actor() -> Actor {
    Actor {
        name: "cli:bench".into(),
        key_fingerprint: None,
        source: "sealdesk-bench".into(),
        kind: sealdesk_desk::ActorKind::LocalAdmin,
    }
}

/// A desk in a scratch dir: data (and, once set up, keys) on the disk under test.
pub(crate) struct BenchDesk {
    scratch: Scratch,
    /// Keys live here while the desk is filled, if the machine has a RAM disk.
    ram: Option<Scratch>,
    pub paths: Paths,
}

impl BenchDesk {
    /// A new desk accepting mail for [`SUPPORT`]. With `keys_in_ram`, the keys dir
    /// starts on the RAM disk so that creating thousands of customers (one keyring
    /// fsync each) is quick; call [`move_keys`](Self::move_keys) before measuring.
    pub(crate) fn create(place: &Place, label: &str, keys_in_ram: bool) -> Result<BenchDesk> {
        let scratch = Scratch::new(&place.dir, label)
            .with_context(|| format!("cannot create a scratch dir in {}", place.dir.display()))?;
        let ram = match (&place.ram, keys_in_ram) {
            (Some(dir), true) => Some(Scratch::new(dir, label)?),
            _ => None,
        };
        let keys = match &ram {
            Some(r) => r.path().join("keys"),
            None => scratch.path().join("keys"),
        };
        let paths = Paths {
            data: scratch.path().join("data"),
            keys,
        };
        Store::init(&paths, None)?;
        std::fs::write(
            Config::default_path(&paths.data),
            format!("[mail]\ningest = [\"{SUPPORT}\"]\n"),
        )?;
        Ok(BenchDesk {
            scratch,
            ram,
            paths,
        })
    }

    /// The scratch dir (for logs and exports next to the desk).
    pub(crate) fn dir(&self) -> &Path {
        self.scratch.path()
    }

    /// The store alone, for filling it before a desk runs on it (`Filler`).
    pub(crate) fn open_store(&self) -> Result<Store> {
        Ok(Store::open(&self.paths, None)?)
    }

    pub(crate) fn open(&self) -> Result<Desk> {
        let path = Config::default_path(&self.paths.data);
        let config = Config::load(&path, true)?;
        let store = Store::open(&self.paths, None)?;
        Ok(Desk::new(store, config).with_config_path(path))
    }

    /// Moves the keys dir from the RAM disk next to the data, so what is measured
    /// afterwards (key loading, erasure's keyring rewrite) uses the real disk.
    pub(crate) fn move_keys(&mut self) -> Result<()> {
        let Some(ram) = self.ram.take() else {
            return Ok(());
        };
        let target: PathBuf = self.scratch.path().join("keys");
        create_private_dir(&target)?;
        for entry in std::fs::read_dir(&self.paths.keys)? {
            let entry = entry?;
            let to = target.join(entry.file_name());
            std::fs::copy(entry.path(), &to)?;
            std::fs::File::open(&to)?.sync_all()?;
        }
        self.paths.keys = target;
        drop(ram);
        Ok(())
    }
}

/// Registers `n` agents (admins), each with a fresh key.
pub(crate) fn add_agents(desk: &Desk, n: usize) -> Result<Vec<AgentKey>> {
    let keys = agent_keys(n);
    register_agents(desk, &keys)?;
    Ok(keys)
}

/// `n` agents' keys, named agent00, agent01, …
pub(crate) fn agent_keys(n: usize) -> Vec<AgentKey> {
    (0..n)
        .map(|i| AgentKey::generate(&format!("agent{i:02}")))
        .collect()
}

/// Adds the agents (admins) to the desk.
pub(crate) fn register_agents(desk: &Desk, keys: &[AgentKey]) -> Result<()> {
    for key in keys {
        desk.add_agent(
            &bench_actor(),
            &key.name,
            AgentRole::Admin,
            &[key.public_line()],
        )?;
    }
    Ok(())
}

/// Writes a made-up desk straight through the store's units of work, a few hundred
/// records to a commit, without the desk's locks (nothing else runs meanwhile).
pub(crate) struct Filler<'s> {
    store: &'s Store,
    tx: Tx<'s>,
    staged: usize,
}

impl<'s> Filler<'s> {
    pub(crate) fn new(store: &'s Store) -> Filler<'s> {
        Filler {
            store,
            tx: store.begin(),
            staged: 0,
        }
    }

    /// Counts one record; commits every few hundred.
    fn step(&mut self) -> Result<()> {
        self.staged += 1;
        if self.staged >= 256 {
            let full = std::mem::replace(&mut self.tx, self.store.begin());
            self.store.commit(full)?;
            self.staged = 0;
        }
        Ok(())
    }

    /// Commits what is left and flushes once.
    pub(crate) fn finish(self) -> Result<()> {
        self.store.commit(self.tx)?;
        self.store.flush()?;
        Ok(())
    }
}

/// Creates `n` customers with made-up names and addresses.
pub(crate) fn add_customers(
    fill: &mut Filler<'_>,
    rng: &mut Rng,
    n: usize,
    offset: usize,
) -> Result<Vec<Customer>> {
    (0..n)
        .map(|i| {
            let (name, email) = Words::person(rng, offset + i);
            let mut c = Customer::new(&email, &name);
            c.created = Timestamp(Timestamp::now().0 - 400 * 86_400);
            fill.tx.insert_customer(&c)?;
            fill.step()?;
            Ok(c)
        })
        .collect()
}

/// What a made-up ticket looks like.
pub(crate) struct TicketPlan<'a> {
    pub customer: &'a Customer,
    pub subject: String,
    pub status: Status,
    pub priority: Priority,
    pub assignee: Option<String>,
    pub tags: Vec<String>,
    pub created: Timestamp,
    pub updated: Timestamp,
    /// Thread: the customer's first mail, then alternately an agent's reply and the
    /// customer's answer, this many messages in all.
    pub messages: usize,
    /// Bytes of text per message.
    pub text_len: usize,
    /// Attach a file of this many bytes to the first message.
    pub attachment: Option<usize>,
}

/// Writes one ticket with its thread, original mails and audit event, as mail arriving
/// and agents answering would have (unflushed).
pub(crate) fn add_ticket(
    fill: &mut Filler<'_>,
    rng: &mut Rng,
    plan: &TicketPlan<'_>,
) -> Result<Ticket> {
    let c = plan.customer;
    let tx = &mut fill.tx;
    let ticket = Ticket {
        number: tx.next_ticket_number(),
        subject: plan.subject.clone().into(),
        status: plan.status,
        priority: plan.priority,
        assignee: plan.assignee.clone(),
        tags: plan.tags.clone(),
        customer: c.id,
        created: plan.created,
        updated: plan.updated,
        due: None,
        address: None,
        participants: Vec::new(),
        links: Vec::new(),
        snoozed_until: None,
        due_by_hand: false,
        sla: bench_clock(plan),
    };
    tx.put_ticket(&ticket)?;
    for i in 0..plan.messages {
        let inbound = i % 2 == 0;
        let text = Words::thread_body(rng, plan.text_len);
        let mut attachments = Vec::new();
        if let (0, Some(len)) = (i, plan.attachment) {
            let id = AttachmentId::random();
            let mut bytes = vec![0u8; len];
            rng.fill(&mut bytes);
            tx.put_attachment(&c.id, &id, &bytes)?;
            attachments.push(Attachment {
                id,
                name: "screenshot.png".into(),
                content_type: "image/png".into(),
                size: len as u64,
            });
        }
        let message_id = format!("{}.{i}.{:x}@example.com", ticket.number, rng.next_u64());
        let mut message = Message {
            ticket: ticket.number,
            seq: 0,
            kind: if inbound {
                MessageKind::Inbound
            } else {
                MessageKind::Outbound
            },
            author: if inbound {
                Author::Customer {
                    id: c.id,
                    address: c.primary_email().into(),
                    name: c.name.clone(),
                }
            } else {
                Author::Agent {
                    name: plan.assignee.clone().unwrap_or_else(|| "agent00".into()),
                }
            },
            at: plan.created,
            text: text.clone(),
            message_id: Some(message_id.clone()),
            in_reply_to: None,
            references: Vec::new(),
            attachments,
            delivery: None,
            parties: Default::default(),
        };
        let seq = tx.append_message(&c.id, &mut message)?;
        if inbound {
            let raw = format!(
                "From: {} <{}>\r\nTo: {SUPPORT}\r\nSubject: {}\r\nMessage-ID: <{message_id}>\r\n\r\n{text}",
                c.name,
                c.primary_email(),
                plan.subject
            );
            tx.put_raw_mail(&c.id, ticket.number, seq, raw.as_bytes())?;
        }
        tx.index_message_id(&message_id, ticket.number)?;
    }
    audit(fill, "mail.new-ticket", &ticket.number.to_string(), Some(c))?;
    Ok(ticket)
}

/// The SLA clock of a planned ticket, as its thread and status would have set it: a
/// first reply within minutes to hours when there is one (spread by the subject, not
/// the generator, so the desks other benchmarks build stay as they were), solved at
/// its last update, pending since then.
fn bench_clock(plan: &TicketPlan<'_>) -> SlaClock {
    let spread = plan
        .subject
        .bytes()
        .fold(17_i64, |h, b| (h * 31 + i64::from(b)) % 14_400);
    SlaClock {
        first_reply: (plan.messages > 1).then(|| Timestamp(plan.created.0 + 300 + spread)),
        solved_at: matches!(plan.status, Status::Solved | Status::Closed).then_some(plan.updated),
        paused_since: (plan.status == Status::Pending).then_some(plan.updated),
        tracked: true,
        ..SlaClock::start()
    }
}

/// `n` privacy requests of `people` received over the last 120 days: a third still
/// open (due 30 days after), most others completed, some denied.
pub(crate) fn add_requests(
    fill: &mut Filler<'_>,
    rng: &mut Rng,
    people: &[Customer],
    n: usize,
) -> Result<()> {
    let now = Timestamp::now().0;
    for _ in 0..n {
        let received = Timestamp(now - rng.below(120 * 86_400) as i64);
        let decided = Timestamp((received.0 + rng.below(20 * 86_400) as i64).min(now));
        let (status, decision) = match rng.below(3) {
            0 => (RequestStatus::Verified, None),
            _ if rng.chance(85) => (RequestStatus::Completed, Some(DecisionOutcome::Completed)),
            _ => (RequestStatus::Denied, Some(DecisionOutcome::Denied)),
        };
        let request = PrivacyRequest {
            id: RequestId::random(),
            customer: people[rng.below(people.len() as u64) as usize].id,
            ticket: None,
            kind: *rng.pick(RequestKind::ALL),
            status,
            received,
            due: received.plus_days(30),
            extension: None,
            verification: None,
            pending_code: None,
            decision: decision.map(|outcome| Decision {
                outcome,
                reason: String::new(),
                by: "agent00".into(),
                at: decided,
            }),
        };
        fill.tx.put_request(&request)?;
        fill.step()?;
    }
    Ok(())
}

/// One audit event, unflushed.
pub(crate) fn audit(
    fill: &mut Filler<'_>,
    action: &str,
    target: &str,
    customer: Option<&Customer>,
) -> Result<()> {
    let store = fill.store;
    fill.tx.audit(AuditEvent {
        seq: 0,
        at: Timestamp::now(),
        actor: "system".into(),
        key_fingerprint: None,
        source: "smtp 127.0.0.1:40000".into(),
        action: action.into(),
        targets: vec![target.into()],
        customer: customer.map(|c| store.pseudonym(&c.id)),
        prev_hash: EventHash::GENESIS,
    });
    fill.step()
}

/// A queue like a busy desk's: `tickets` over `customers`, created over the last 120
/// days, most closed or solved, some assigned to `agents`, a few tagged.
pub(crate) fn fill_queue(
    store: &Store,
    rng: &mut Rng,
    tickets: usize,
    customers: usize,
    agents: &[String],
    messages: usize,
) -> Result<Vec<Customer>> {
    let started = Instant::now();
    let mut fill = Filler::new(store);
    let people = add_customers(&mut fill, rng, customers, 0)?;
    note(&format!(
        "{customers} customers in {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    let now = Timestamp::now().0;
    const TAGS: &[&str] = &["billing", "bug", "refund", "vip", "shipping", "gdpr"];
    for i in 0..tickets {
        let created = now - 120 * 86_400 + (i as i64 * 120 * 86_400 / tickets as i64);
        let updated = (created + rng.below(5 * 86_400) as i64).min(now - 3_600);
        let status = match rng.below(100) {
            0..=9 => Status::New,
            10..=39 => Status::Open,
            40..=54 => Status::Pending,
            55..=69 => Status::Solved,
            _ => Status::Closed,
        };
        let priority = match rng.below(20) {
            0 => Priority::Urgent,
            1..=3 => Priority::High,
            4..=15 => Priority::Normal,
            _ => Priority::Low,
        };
        let assignee = (status != Status::New && rng.chance(80)).then(|| rng.pick(agents).clone());
        let tags = if rng.chance(25) {
            vec![rng.pick(TAGS).to_string()]
        } else {
            Vec::new()
        };
        let plan = TicketPlan {
            customer: &people[rng.below(people.len() as u64) as usize],
            subject: Words::subject(rng),
            status,
            priority,
            assignee,
            tags,
            created: Timestamp(created),
            updated: Timestamp(updated),
            messages,
            text_len: 600,
            attachment: None,
        };
        add_ticket(&mut fill, rng, &plan)?;
        if (i + 1) % 25_000 == 0 {
            note(&format!(
                "{} tickets in {:.1} s",
                i + 1,
                started.elapsed().as_secs_f64()
            ));
        }
    }
    fill.finish()?;
    Ok(people)
}
