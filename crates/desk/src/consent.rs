//! The consent ledger: append-only, one entry per event, the latest per purpose is in
//! force. "May we use this person's data for purpose X, and since when?" in one call.

pub use sealdesk_api::{NewConsent, PurposeState};

use super::write::Hold;
use super::{Actor, Desk, DeskError, Result};
use sealdesk_model::{ConsentActor, ConsentRecord, ConsentState, Customer, Timestamp};

impl Desk {
    pub fn record_consent(
        &self,
        actor: &Actor,
        customer: &Customer,
        new: NewConsent<'_>,
    ) -> Result<ConsentRecord> {
        let catalogue = self.catalogue();
        if catalogue.purpose(new.purpose).is_none() {
            let codes: Vec<&str> = catalogue.purposes.iter().map(|p| p.code.as_str()).collect();
            return Err(DeskError::Invalid(format!(
                "unknown purpose {:?}: use one of {}",
                new.purpose,
                codes.join(", ")
            )));
        }
        let mut categories = Vec::new();
        for c in new.categories {
            let entry = catalogue.category(c).ok_or_else(|| {
                let codes: Vec<&str> = catalogue
                    .categories
                    .iter()
                    .map(|p| p.code.as_str())
                    .collect();
                DeskError::Invalid(format!(
                    "unknown category {c:?}: use codes such as {}",
                    codes.join(", ")
                ))
            })?;
            categories.push(entry.code.clone());
        }
        if new.method.trim().is_empty() {
            return Err(DeskError::Invalid(
                "say how consent was given or withdrawn: --method (e.g. email, phone, form)".into(),
            ));
        }
        let consent_actor = match new.guardian.map(str::trim).filter(|g| !g.is_empty()) {
            Some(g) => ConsentActor::Guardian {
                name: g.to_string(),
                recorded_by: actor.name.clone(),
            },
            None if customer.flags.minor && new.state == ConsentState::Given => {
                let age = self.config().privacy.minor_age;
                return Err(DeskError::Invalid(format!(
                    "refused: this customer is a minor (under {age}); consent must be given by a guardian (--guardian NAME)"
                )));
            }
            None => ConsentActor::Agent {
                name: actor.name.clone(),
            },
        };
        let record = ConsentRecord {
            customer: customer.id,
            seq: 0,
            purpose: new.purpose.to_string(),
            categories,
            state: new.state,
            at: Timestamp::now(),
            actor: consent_actor,
            method: new.method.trim().to_string(),
            evidence: new.evidence.trim().to_string(),
            policy_version: new.policy_version.trim().to_string(),
        };
        self.write(actor, &[Hold::Customer(customer.id)], |u| {
            if self.store.customer(&customer.id)?.is_none() {
                return Err(DeskError::NotFound(
                    "this customer's data is gone (erased meanwhile): nothing was recorded".into(),
                ));
            }
            let mut record = record.clone();
            u.tx.append_consent(&mut record)?;
            u.audit(
                "consent.record",
                vec![
                    format!("purpose={}", record.purpose),
                    format!("state={}", record.state),
                ],
                Some(&customer.id),
            );
            Ok(record)
        })
    }

    /// Per purpose of the catalogue, the entry in force; then the whole ledger, oldest
    /// first. The look-up is audited.
    pub fn consent_overview(
        &self,
        actor: &Actor,
        customer: &Customer,
    ) -> Result<(Vec<PurposeState>, Vec<ConsentRecord>)> {
        let ledger = self.store.consents(&customer.id)?;
        let states = self
            .catalogue()
            .purposes
            .into_iter()
            .map(|p| {
                let current = ledger.iter().rev().find(|r| r.purpose == p.code).cloned();
                PurposeState {
                    purpose: p,
                    current,
                }
            })
            .collect();
        self.audit_only(actor, "consent.view", vec![], Some(&customer.id))?;
        Ok((states, ledger))
    }

    /// Finds a customer by address for an admin or agent action; audited as a search.
    pub fn find_customer(&self, actor: &Actor, email: &str) -> Result<Customer> {
        match self.store.customer_by_email(email)? {
            Some(c) => Ok(c),
            None => {
                self.audit_only(actor, "customer.search", vec!["no match".into()], None)?;
                Err(DeskError::NotFound(format!(
                    "no customer with address {}: check the spelling",
                    sealdesk_model::sanitize::line(email)
                )))
            }
        }
    }

    /// Sets profile flags (minor, legal hold) or the name; audited.
    pub fn update_customer(
        &self,
        actor: &Actor,
        mut customer: Customer,
        what: &str,
    ) -> Result<Customer> {
        customer.emails.dedup();
        let mut holds = vec![Hold::Customer(customer.id)];
        holds.extend(
            customer
                .emails
                .iter()
                .map(|e| Hold::Address(self.store.email_key(e))),
        );
        self.write(actor, &holds, |u| {
            if self.store.customer(&customer.id)?.is_none() {
                return Err(DeskError::NotFound(
                    "this customer's data is gone (erased meanwhile): nothing was changed".into(),
                ));
            }
            for email in &customer.emails {
                if let Some(other) = self.store.customer_by_email(email)? {
                    if other.id != customer.id {
                        return Err(DeskError::Conflict(format!(
                            "{} belongs to another customer already: merge them instead",
                            sealdesk_model::sanitize::line(email)
                        )));
                    }
                }
            }
            u.tx.put_customer(&customer)?;
            u.audit(
                "customer.update",
                vec![what.to_string()],
                Some(&customer.id),
            );
            // Open queues show the new name on the customer's tickets.
            for n in self.store.customer_tickets(&customer.id)? {
                u.touch(n);
            }
            Ok(())
        })?;
        Ok(customer)
    }
}
