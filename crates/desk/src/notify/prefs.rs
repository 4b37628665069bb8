//! Each agent's choice of what they are told about, and their notification list.

use super::super::write::Hold;
use super::super::{Actor, Change, Desk, DeskError, Result};
use sealdesk_model::{Notification, NotifyPrefs};

pub use sealdesk_api::NotifySettings;

impl Desk {
    /// `name`'s topics: their choice, else their role's defaults.
    pub fn notify_prefs(&self, name: &str) -> Result<NotifyPrefs> {
        let agent = self.agent_named(name)?;
        Ok(NotifyPrefs::effective(
            self.store.notify_prefs(name)?,
            agent.role,
        ))
    }

    /// The agent's topics and mail address; agents see their own, admins anyone's.
    pub fn notify_settings(&self, actor: &Actor, name: &str) -> Result<NotifySettings> {
        if actor.name != name {
            self.require_admin(actor, "see another agent's notification settings")?;
        }
        Ok(NotifySettings {
            prefs: self.notify_prefs(name)?,
            email: self.config().agent_email.get(name).cloned(),
        })
    }

    /// Applies `spec` (see [`NotifyPrefs::apply`]) to `name`'s topics; agents change
    /// their own, admins anyone's. Audited as `agent.notify`.
    pub fn set_notify_prefs(&self, actor: &Actor, name: &str, spec: &str) -> Result<NotifyPrefs> {
        if actor.name != name {
            self.require_admin(actor, "change another agent's notifications")?;
        }
        self.write(actor, &[Hold::Settings], |u| {
            let agent = self.agent_named(name)?;
            let mut prefs = NotifyPrefs::effective(u.tx.store().notify_prefs(name)?, agent.role);
            prefs.apply(spec).map_err(DeskError::Invalid)?;
            u.tx.put_notify_prefs(name, &prefs)?;
            u.audit(
                "agent.notify",
                vec![name.to_string(), format!("notify={}", prefs.list())],
                None,
            );
            Ok(prefs)
        })
    }

    /// The actor's own notifications, newest first.
    pub fn notifications(&self, actor: &Actor) -> Result<Vec<Notification>> {
        Ok(self.store.notifications(&actor.name)?)
    }

    /// How many of the actor's notifications are unread.
    pub fn unread_notifications(&self, actor: &Actor) -> Result<usize> {
        Ok(self.store.unread_notifications(&actor.name)?)
    }

    /// Marks one of the actor's notifications read.
    pub fn mark_notification_read(&self, actor: &Actor, seq: u64) -> Result<()> {
        let name = actor.name.clone();
        self.write(actor, &[Hold::Settings], |u| {
            if u.tx.mark_notification_read(&name, seq)? {
                u.audit("notification.read", vec![format!("seq={seq}")], None);
                u.announce(Change::Notified(name.clone()));
            }
            Ok(())
        })
    }
}
