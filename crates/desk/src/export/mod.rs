//! Data export (access and portability): everything held about one customer, as files
//! for one archive. Other people's messages in shared threads are left out (redacted)
//! so an export never discloses anyone else.

pub mod archive;
mod kept;
mod sections;

use super::{requests::is_finished, Actor, Desk, Result};
use sealdesk_model::{
    Author, ConsentActor, ConsentState, Customer, Message, MessageKind, RequestId, Timestamp,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// Version of the archive layout; docs/export.schema.json describes it.
pub const EXPORT_SCHEMA_VERSION: u32 = 2;

/// One file of the archive.
pub struct ExportFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

impl Desk {
    /// Builds the files of a customer's export, `SHA256SUMS` last. Audited. Not gated
    /// by a verified request: only the bench calls it; adapters export with
    /// [`Desk::create_export`], which is. Public only for `sealdesk-bench` (bench/).
    pub fn export_customer(
        &self,
        actor: &Actor,
        customer: &Customer,
        request: Option<RequestId>,
    ) -> Result<Vec<ExportFile>> {
        let files = self.export_files(customer, request)?;
        self.audit_only(
            actor,
            "customer.export",
            vec![format!("files={}", files.len())],
            Some(&customer.id),
        )?;
        Ok(files)
    }

    /// The files of a customer's export, `SHA256SUMS` last (not audited: the caller
    /// audits what it does with them).
    pub(super) fn export_files(
        &self,
        customer: &Customer,
        request: Option<RequestId>,
    ) -> Result<Vec<ExportFile>> {
        let _op = self.store.op();
        let config = self.config();
        let catalogue = self.catalogue();
        let mut files: Vec<ExportFile> = Vec::new();

        let consents = self.store.consents(&customer.id)?;
        let requests: Vec<_> = self
            .store
            .requests()?
            .into_iter()
            .filter(|r| r.customer == customer.id)
            .collect();

        // Tickets: their own, plus any where they wrote in someone else's thread.
        let mut numbers: BTreeSet<u64> = self
            .store
            .customer_tickets(&customer.id)?
            .into_iter()
            .map(|n| n.0)
            .collect();
        for t in self.store.tickets()? {
            if t.customer != customer.id
                && self
                    .store
                    .messages(t.number)?
                    .into_iter()
                    .flatten()
                    .any(|m| is_by(&m, customer))
            {
                numbers.insert(t.number.0);
            }
        }
        let outbox = self.store.outbox()?;
        let mut ticket_index = Vec::new();
        let mut message_count = 0;
        for n in numbers {
            let number = sealdesk_model::TicketNo(n);
            let Some(ticket) = self.store.ticket(number)? else {
                continue;
            };
            let own_ticket = ticket.customer == customer.id;
            let mut messages = Vec::new();
            for m in self.store.messages(number)?.into_iter().flatten() {
                let visible = is_by(&m, customer)
                    || (own_ticket && !matches!(m.author, Author::Customer { .. }));
                if !visible {
                    messages.push(
                        json!({ "seq": m.seq, "kind": m.kind.as_str(), "redacted": true,
                        "reason": "written by another person" }),
                    );
                    continue;
                }
                let mut attachments = Vec::new();
                for a in &m.attachments {
                    let path = format!("attachments/{}-{}", a.id, safe_file_name(&a.name));
                    if let Some(bytes) = self.store.attachment(&a.id)? {
                        add(&mut files, path.clone(), bytes);
                    }
                    attachments.push(json!({ "name": a.name, "content_type": a.content_type, "size": a.size, "file": path }));
                }
                let eml_path = format!("tickets/{n}/{}.eml", m.seq);
                // Received mail as it arrived, replies as they went to the relay; only
                // what never was mail (notes, replies not sent yet) is written anew.
                let (eml, eml_source) = match self.store.raw_mail(number, m.seq)? {
                    Some(raw) if m.kind == MessageKind::Inbound => (raw, "as received"),
                    Some(raw) => (raw, "as sent"),
                    None => (
                        synthesize_eml(
                            &m,
                            customer,
                            &config.mail.from.clone().unwrap_or_default(),
                            ticket.subject.as_str(),
                        ),
                        "reconstructed",
                    ),
                };
                add(&mut files, eml_path.clone(), eml);
                message_count += 1;
                messages.push(json!({
                    "seq": m.seq,
                    "kind": m.kind.as_str(),
                    "author": author_label(&m.author, customer),
                    "at": m.at.rfc3339(),
                    "text": m.text,
                    "message_id": m.message_id,
                    "in_reply_to": m.in_reply_to,
                    "references": m.references,
                    "attachments": attachments,
                    "eml": eml_path,
                    "eml_source": eml_source,
                    "delivery": sections::delivery_json(&m, &outbox),
                    "internal_note": m.kind == MessageKind::Note,
                }));
            }
            let subject = if own_ticket {
                json!(ticket.subject)
            } else {
                json!(null)
            };
            let doc = json!({
                "number": n,
                "subject": subject,
                "status": ticket.status.as_str(),
                "priority": ticket.priority.as_str(),
                "created": ticket.created.rfc3339(),
                "updated": ticket.updated.rfc3339(),
                "own_ticket": own_ticket,
                "messages": messages,
            });
            add(&mut files, format!("tickets/{n}/ticket.json"), pretty(&doc));
            ticket_index.push(doc);
        }

        let profile = json!({
            "id": customer.id.to_string(),
            "name": customer.name,
            "emails": customer.emails,
            "locale": customer.locale,
            "flags": { "minor": customer.flags.minor, "legal_hold": customer.flags.legal_hold, "previously_erased": customer.flags.previously_erased },
            "created": customer.created.rfc3339(),
        });
        add(&mut files, "profile.json".into(), pretty(&profile));
        let consent_docs: Vec<Value> = consents
            .iter()
            .map(|r| {
                json!({
                    "seq": r.seq, "purpose": r.purpose, "categories": r.categories, "state": r.state.as_str(),
                    "at": r.at.rfc3339(), "by": match &r.actor {
                        ConsentActor::Customer => "customer".to_string(),
                        ConsentActor::Agent { name } => format!("agent {name}"),
                        ConsentActor::Guardian { name, .. } => format!("guardian {name}"),
                    },
                    "method": r.method, "evidence": r.evidence, "policy_version": r.policy_version,
                })
            })
            .collect();
        add(
            &mut files,
            "consents.json".into(),
            pretty(&json!(consent_docs)),
        );
        let now = Timestamp::now();
        let request_docs: Vec<Value> = requests
            .iter()
            .map(|r| super::request_json(r, now))
            .collect();
        add(
            &mut files,
            "requests.json".into(),
            pretty(&json!(request_docs)),
        );

        // Sections that stand on their own, each adding its files. (Notices to the
        // customer go here too, as one more entry.)
        let sections: &[sections::Section] = &[sections::quarantine, sections::audit_trail];
        let mut held_elsewhere = false;
        for section in sections {
            held_elsewhere |= section(self, customer, &mut files)?;
        }

        // What is held and why, as the consent ledger says now: every purpose's
        // latest entry decides. Customer service (090) serves every ticket; a purpose
        // consented to adds its categories; one withdrawn, refused or expired is
        // listed as ended and adds none.
        let mut categories: BTreeSet<String> = ["C001".to_string()].into();
        if message_count > 0 || held_elsewhere {
            categories.insert("C132".into());
        }
        let purpose_name = |code: &str| {
            catalogue
                .purpose(code)
                .map(|p| p.name.clone())
                .unwrap_or_default()
        };
        let mut purposes: Vec<Value> = vec![
            json!({ "code": "090", "name": purpose_name("090"), "basis": "the service you asked for" }),
        ];
        let mut ended: Vec<Value> = Vec::new();
        let mut latest: Vec<&sealdesk_model::ConsentRecord> = Vec::new();
        for r in &consents {
            match latest.iter_mut().find(|l| l.purpose == r.purpose) {
                Some(l) if l.seq < r.seq => *l = r,
                Some(_) => {}
                None => latest.push(r),
            }
        }
        for r in latest {
            if r.state == ConsentState::Given {
                categories.extend(r.categories.iter().cloned());
                if r.purpose != "090" {
                    purposes.push(json!({ "code": r.purpose, "name": purpose_name(&r.purpose), "basis": "consent", "since": r.at.rfc3339(), "categories": r.categories }));
                }
            } else {
                ended.push(json!({ "code": r.purpose, "name": purpose_name(&r.purpose), "state": r.state.as_str(), "since": r.at.rfc3339() }));
            }
        }
        let privacy = &config.privacy;
        let retention = if privacy.anonymise_closed_after_days > 0 {
            format!("closed tickets are anonymised {} days after their last update; the rest is kept while you are a customer", privacy.anonymise_closed_after_days)
        } else {
            "kept while you are a customer, until you ask us to erase it".to_string()
        };
        files.extend(self.notices_for_export(customer)?);
        let mut paths: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
        paths.extend(["manifest.json".to_string(), "index.html".to_string()]);
        let manifest = json!({
            "format": "sealdesk-export",
            "schema_version": EXPORT_SCHEMA_VERSION,
            "request_id": request.map(|r| r.to_string()),
            "generated_at": now.rfc3339(),
            "controller": privacy.controller,
            "customer_id": customer.id.to_string(),
            "categories": categories.iter().map(|c| json!({ "code": c, "name": catalogue.category(c).map(|e| e.name.clone()).unwrap_or_default() })).collect::<Vec<_>>(),
            "purposes": purposes,
            "purposes_ended": ended,
            "retention": retention,
            "recipients": privacy.recipients,
            "open_requests": requests.iter().filter(|r| !is_finished(r)).count(),
            "files": paths,
        });
        let html = index_html(&profile, &manifest, &ticket_index, &consent_docs, &files);
        add(&mut files, "index.html".into(), html.into_bytes());
        add(&mut files, "manifest.json".into(), pretty(&manifest));
        let sums: String = files
            .iter()
            .map(|f| format!("{}  {}\n", hex::encode(Sha256::digest(&f.bytes)), f.path))
            .collect();
        files.push(ExportFile {
            path: "SHA256SUMS".into(),
            bytes: sums.into_bytes(),
        });
        Ok(files)
    }
}

pub(super) fn add(files: &mut Vec<ExportFile>, path: String, bytes: Vec<u8>) {
    files.push(ExportFile { path, bytes });
}

fn is_by(m: &Message, c: &Customer) -> bool {
    matches!(&m.author, Author::Customer { id, .. } if *id == c.id)
}

fn author_label(a: &Author, c: &Customer) -> String {
    match a {
        Author::Customer { id, .. } if *id == c.id => "you".into(),
        Author::Agent { name } => format!("support agent {name}"),
        Author::System => "the helpdesk (automatic)".into(),
        other => other.display(),
    }
}

pub(super) fn pretty(v: &Value) -> Vec<u8> {
    let mut s = serde_json::to_vec_pretty(v).expect("JSON values always serialise");
    s.push(b'\n');
    s
}

/// A file name that cannot escape its directory or confuse an unpacker: the last path
/// component only, no leading dots, no controls.
fn safe_file_name(name: &str) -> String {
    let cleaned = sealdesk_model::sanitize::line(name);
    let last = cleaned
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .replace(':', "_");
    let trimmed = last.trim_start_matches('.').trim();
    if trimmed.is_empty() {
        "file".into()
    } else {
        trimmed.chars().take(100).collect()
    }
}

/// An `.eml` for a message that did not arrive as mail (replies, notes).
fn synthesize_eml(m: &Message, c: &Customer, desk_from: &str, subject: &str) -> Vec<u8> {
    let from = match &m.author {
        Author::Customer { address, .. } => address.clone(),
        _ => desk_from.to_string(),
    };
    let mut s = format!(
        "From: {from}\r\nTo: {}\r\nSubject: {}\r\nDate: {}\r\n",
        c.primary_email(),
        sealdesk_model::sanitize::line(subject),
        m.at.rfc3339()
    );
    if let Some(id) = &m.message_id {
        s.push_str(&format!("Message-ID: <{id}>\r\n"));
    }
    if m.kind == MessageKind::Note {
        s.push_str("X-Sealdesk-Internal-Note: yes\r\n");
    }
    s.push_str("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
    s.push_str(&m.text.replace('\n', "\r\n"));
    s.push_str("\r\n");
    s.into_bytes()
}

fn esc(s: &str) -> String {
    sealdesk_model::sanitize::multiline(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn index_html(
    profile: &Value,
    manifest: &Value,
    tickets: &[Value],
    consents: &[Value],
    files: &[ExportFile],
) -> String {
    let section = |path: &str| -> Vec<Value> {
        files
            .iter()
            .find(|f| f.path == path)
            .and_then(|f| serde_json::from_slice::<Vec<Value>>(&f.bytes).ok())
            .unwrap_or_default()
    };
    let text = |v: &Value| esc(v.as_str().unwrap_or(""));
    let mut h = String::from("<!doctype html><html><head><meta charset=\"utf-8\"><title>Your data</title><style>body{font-family:sans-serif;max-width:50em;margin:auto}pre{white-space:pre-wrap;background:#f4f4f4;padding:.5em}</style></head><body>");
    h.push_str(&format!(
        "<h1>Your data</h1><p>Generated {} by {}.</p>",
        text(&manifest["generated_at"]),
        text(&manifest["controller"])
    ));
    h.push_str(&format!(
        "<h2>Profile</h2><p>Name: {}<br>Addresses: {}</p>",
        text(&profile["name"]),
        esc(&profile["emails"]
            .as_array()
            .map(|a| a
                .iter()
                .filter_map(|e| e.as_str())
                .collect::<Vec<_>>()
                .join(", "))
            .unwrap_or_default())
    ));
    h.push_str("<h2>What we hold and why</h2><ul>");
    for c in manifest["categories"].as_array().into_iter().flatten() {
        h.push_str(&format!(
            "<li>{} – {}</li>",
            text(&c["code"]),
            text(&c["name"])
        ));
    }
    h.push_str("</ul><ul>");
    for p in manifest["purposes"].as_array().into_iter().flatten() {
        h.push_str(&format!(
            "<li>purpose {} – {} ({})</li>",
            text(&p["code"]),
            text(&p["name"]),
            text(&p["basis"])
        ));
    }
    h.push_str(&format!(
        "</ul><p>Retention: {}</p>",
        text(&manifest["retention"])
    ));
    h.push_str("<h2>Consents</h2><ul>");
    for c in consents {
        h.push_str(&format!(
            "<li>{} purpose {}: {} ({})</li>",
            text(&c["at"]),
            text(&c["purpose"]),
            text(&c["state"]),
            text(&c["method"])
        ));
    }
    h.push_str("</ul><h2>Conversations</h2>");
    for t in tickets {
        h.push_str(&format!(
            "<h3>Ticket #{} {}</h3>",
            t["number"],
            text(&t["subject"])
        ));
        for m in t["messages"].as_array().into_iter().flatten() {
            if m["redacted"] == true {
                h.push_str("<p><em>A message from another person is left out.</em></p>");
            } else {
                let delivery = match m["delivery"]["state"].as_str() {
                    Some(state) => format!(
                        "; {state} {}",
                        text(m["delivery"].get("at").unwrap_or(&m["delivery"]["since"]))
                    ),
                    None => String::new(),
                };
                h.push_str(&format!(
                    "<p><strong>{}</strong>, {} ({}{delivery})</p><pre>{}</pre>",
                    text(&m["author"]),
                    text(&m["at"]),
                    text(&m["kind"]),
                    text(&m["text"])
                ));
            }
        }
    }
    let held = section("quarantine.json");
    if !held.is_empty() {
        h.push_str("<h2>Mail from you that was held back</h2><ul>");
        for q in &held {
            h.push_str(&format!(
                "<li>{}: {} (the mail as it arrived: {})</li>",
                text(&q["received"]),
                text(&q["reason"]),
                text(&q["eml"])
            ));
        }
        h.push_str("</ul>");
    }
    h.push_str("<h2>Who worked with your data</h2><ul>");
    for e in section("audit.json") {
        h.push_str(&format!(
            "<li>{} {}: {} ({})</li>",
            text(&e["at"]),
            text(&e["by"]),
            text(&e["what"]),
            text(&e["action"])
        ));
    }
    h.push_str("</ul>");
    h.push_str("<p>Every file in this archive is listed with its SHA-256 in SHA256SUMS.</p></body></html>\n");
    h
}
