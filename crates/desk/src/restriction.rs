//! Restriction of processing ("stop use") and what a withdrawn or refused consent does
//! to mail. One question for every sender of mail to a customer — replies, notices,
//! request notices: [`Desk::mail_allowed`]. An admin may override a refusal with a
//! typed reason, audited as an override ([`Desk::override_restriction`]).

use super::write::{Hold, Unit};
use super::{Actor, Desk, DeskError, Result};
use sealdesk_model::{ConsentState, Customer, CustomerId};

pub use sealdesk_api::Refusal;

/// The purpose code of marketing in the shipped catalogue: notices of a marketing kind
/// rest on consent for it.
pub const MARKETING_PURPOSE: &str = "040";

/// Why the desk would mail a customer: decides whether a restriction or the consent
/// ledger stops it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailPurpose<'a> {
    /// An agent's reply on the customer's ticket: refused while restricted.
    Reply,
    /// Mail the law or the contract requires: answers about the customer's own privacy
    /// requests (codes, extension, denial, completion), a security incident, a
    /// transfer, the end of the service. Sent even while restricted.
    Mandatory,
    /// Mail nobody asked for and nothing obliges (a policy-change or "other" notice):
    /// refused while restricted.
    Optional,
    /// Mail that rests on consent for one purpose of the catalogue (marketing:
    /// [`MARKETING_PURPOSE`]): refused while restricted, and unless the latest consent
    /// entry for that purpose says "given".
    Consented(&'a str),
}

impl Desk {
    /// May we mail this customer for this purpose now? `Err` says why not in one line
    /// (no customer text in it). Reads the flags of `customer` as given and the consent
    /// ledger as stored; a ledger that cannot be read refuses (fail closed).
    pub(crate) fn mail_allowed(
        &self,
        customer: &Customer,
        purpose: MailPurpose<'_>,
    ) -> std::result::Result<(), Refusal> {
        let refuse = |reason: String| Err(Refusal { reason });
        if purpose == MailPurpose::Mandatory {
            return Ok(());
        }
        if customer.flags.restricted {
            return refuse(
                "refused: processing of this customer's data is restricted; an admin can override with a reason (--override \"REASON\"), or lift it with `sealdesk customer set EMAIL --restricted false`".into(),
            );
        }
        if let MailPurpose::Consented(code) = purpose {
            let ledger = match self.store.consents(&customer.id) {
                Ok(l) => l,
                Err(_) => {
                    return refuse(
                        "refused: the consent ledger cannot be read now; try again later".into(),
                    )
                }
            };
            match ledger.iter().rev().find(|r| r.purpose == code) {
                Some(r) if r.state == ConsentState::Given => {}
                Some(r) => {
                    return refuse(format!(
                        "refused: consent for purpose {code} was {} on {}; nothing is sent for it",
                        r.state, r.at
                    ))
                }
                None => {
                    return refuse(format!(
                        "refused: there is no consent for purpose {code}; record it first (`sealdesk consent record`)"
                    ))
                }
            }
        }
        Ok(())
    }

    /// The consent entries in force that say "withdrawn" or "refused", as
    /// `(purpose code, state)`, for the ticket screen's warning.
    pub(crate) fn consent_warnings(
        &self,
        customer: &CustomerId,
    ) -> Result<Vec<(String, ConsentState)>> {
        let ledger = self.store.consents(customer)?;
        let mut latest: Vec<(String, ConsentState)> = Vec::new();
        for r in &ledger {
            match latest.iter_mut().find(|(p, _)| *p == r.purpose) {
                Some(entry) => entry.1 = r.state,
                None => latest.push((r.purpose.clone(), r.state)),
            }
        }
        latest.retain(|(_, s)| matches!(s, ConsentState::Withdrawn | ConsentState::Refused));
        Ok(latest)
    }

    /// What the ticket and customer screens warn about for this customer, in words:
    /// "restricted", and each purpose whose consent in force is withdrawn or refused
    /// ("consent 040 marketing: withdrawn").
    pub fn privacy_marks(&self, customer: &CustomerId) -> Result<Vec<String>> {
        let mut marks = Vec::new();
        if self
            .store
            .customer(customer)?
            .is_some_and(|c| c.flags.restricted)
        {
            marks.push("restricted".to_string());
        }
        let catalogue = self.catalogue();
        for (code, state) in self.consent_warnings(customer)? {
            let name = catalogue
                .purpose(&code)
                .map(|p| format!(" {}", p.name))
                .unwrap_or_default();
            marks.push(format!("consent {code}{name}: {state}"));
        }
        Ok(marks)
    }

    /// Why a reply on this ticket would be refused now, if it would (for the TUI to
    /// offer an admin the override).
    pub fn reply_refusal(&self, ticket: sealdesk_model::TicketNo) -> Result<Option<Refusal>> {
        let Some(t) = self.store.ticket(ticket)? else {
            return Ok(None);
        };
        Ok(match self.store.customer(&t.customer)? {
            Some(c) => self.mail_allowed(&c, MailPurpose::Reply).err(),
            None => None,
        })
    }

    /// Sets or lifts the restriction of processing; audited (`customer.restrict`).
    pub fn set_restricted(&self, actor: &Actor, customer: &Customer, on: bool) -> Result<()> {
        self.write(actor, &[Hold::Customer(customer.id)], |u| {
            stage_restricted(u, &customer.id, on, "by=admin")
        })
    }

    /// Lets one mail through that [`Desk::mail_allowed`] refused: admins only, the
    /// reason required, audited as `restriction.override` in the unit `u` that sends it.
    pub(super) fn override_restriction(
        &self,
        u: &mut Unit<'_>,
        actor: &Actor,
        customer: &CustomerId,
        refusal: &Refusal,
        reason: Option<&str>,
        what: &str,
    ) -> Result<()> {
        let Some(reason) = reason.map(str::trim).filter(|r| !r.is_empty()) else {
            return Err(refusal.clone().into());
        };
        self.require_admin(actor, "override a restriction")?;
        u.audit(
            "restriction.override",
            vec![
                what.to_string(),
                format!("reason={}", sealdesk_model::sanitize::line(reason)),
            ],
            Some(customer),
        );
        Ok(())
    }
}

/// Sets the restricted flag inside a unit that holds the customer (also used when a
/// restriction request is completed).
pub(super) fn stage_restricted(
    u: &mut Unit<'_>,
    id: &CustomerId,
    on: bool,
    detail: &str,
) -> Result<()> {
    let mut c = u.tx.store().customer(id)?.ok_or_else(|| {
        DeskError::NotFound(
            "this customer's data is gone (erased meanwhile): nothing was changed".into(),
        )
    })?;
    c.flags.restricted = on;
    u.tx.put_customer(&c)?;
    u.audit(
        if on {
            "customer.restrict"
        } else {
            "customer.unrestrict"
        },
        vec![detail.to_string()],
        Some(id),
    );
    for n in u.tx.store().customer_tickets(id)? {
        u.touch(n);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::desk;
    use crate::{NewConsent, NewTicket};

    fn consent(d: &Desk, c: &Customer, state: ConsentState) {
        d.record_consent(
            &Actor::local_admin(),
            c,
            NewConsent {
                purpose: MARKETING_PURPOSE,
                state,
                categories: &[],
                method: "email",
                evidence: "",
                policy_version: "",
                guardian: None,
            },
        )
        .unwrap();
    }

    #[test]
    fn restriction_and_consent_decide_what_may_be_mailed() {
        let dir = tempfile::tempdir().unwrap();
        let d = desk(dir.path());
        let admin = Actor::local_admin();
        let new = NewTicket {
            from: "ann@example.com",
            name: "Ann",
            subject: "Hi",
            body: "hello",
            message_id: None,
        };
        d.create_ticket(&admin, new).unwrap();
        let ann = || d.find_customer(&admin, "ann@example.com").unwrap();
        let marketing = MailPurpose::Consented(MARKETING_PURPOSE);
        assert!(d.mail_allowed(&ann(), MailPurpose::Reply).is_ok());
        assert!(d.mail_allowed(&ann(), MailPurpose::Optional).is_ok());
        let never = d.mail_allowed(&ann(), marketing).unwrap_err();
        assert!(never.reason.contains("no consent"), "{never}");
        consent(&d, &ann(), ConsentState::Given);
        assert!(d.mail_allowed(&ann(), marketing).is_ok());
        consent(&d, &ann(), ConsentState::Withdrawn);
        let withdrawn = d.mail_allowed(&ann(), marketing).unwrap_err();
        assert!(withdrawn.reason.contains("withdrawn"), "{withdrawn}");
        assert_eq!(
            d.consent_warnings(&ann().id).unwrap(),
            vec![(MARKETING_PURPOSE.to_string(), ConsentState::Withdrawn)]
        );
        consent(&d, &ann(), ConsentState::Given);
        assert!(d.consent_warnings(&ann().id).unwrap().is_empty());

        d.set_restricted(&admin, &ann(), true).unwrap();
        for refused in [MailPurpose::Reply, MailPurpose::Optional, marketing] {
            let r = d.mail_allowed(&ann(), refused).unwrap_err();
            assert!(r.reason.contains("restricted"), "{r}");
        }
        assert!(d.mail_allowed(&ann(), MailPurpose::Mandatory).is_ok());
        assert_eq!(d.privacy_marks(&ann().id).unwrap(), vec!["restricted"]);
    }
}
