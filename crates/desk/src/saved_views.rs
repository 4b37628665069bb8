//! Saved queue views (Part 10): shared ones (admins manage them) and each agent's own.
//! A view is named by its owner (`None`: shared) and its name. Listed shared first,
//! then the agent's own, each in name order: the queue's keys `1`…`9` follow that
//! order. Every change is audited as `view.*`, under the settings hold.

use super::{Actor, ActorKind, Desk, DeskError, Result};
use crate::write::Hold;
use sealdesk_model::{is_valid_view_name, sanitize, SavedView, Timestamp, ViewQuery};

fn targets(owner: Option<&str>, name: &str) -> Vec<String> {
    vec![
        name.to_string(),
        match owner {
            None => "shared".into(),
            Some(o) => format!("agent={o}"),
        },
    ]
}

fn check_name(name: &str) -> Result<()> {
    if is_valid_view_name(name) {
        Ok(())
    } else {
        Err(DeskError::Invalid(format!(
            "view name {:?} is not allowed: use 1-40 printable characters",
            sanitize::line(name)
        )))
    }
}

fn not_found(name: &str) -> DeskError {
    DeskError::NotFound(format!(
        "there is no view {:?}: see `sealdesk view list`",
        sanitize::line(name)
    ))
}

impl Desk {
    /// The views `actor` can use: shared ones, then their own, each by name. For the
    /// CLI: shared ones, then every agent's own.
    pub fn saved_views(&self, actor: &Actor) -> Result<Vec<SavedView>> {
        let mut views = self.store.shared_views()?;
        match actor.kind {
            ActorKind::Agent => views.extend(self.store.own_views(&actor.name)?),
            _ => {
                for agent in self.store.agents()? {
                    views.extend(self.store.own_views(&agent.name)?);
                }
            }
        }
        Ok(views)
    }

    /// Shared views are an admin's to manage; an agent manages their own; the CLI (an
    /// admin) any agent's.
    fn may_manage_view(&self, actor: &Actor, owner: Option<&str>) -> Result<()> {
        match owner {
            None => self.require_admin(actor, "manage shared views"),
            Some(o) if actor.kind == ActorKind::Agent && o != actor.name => {
                Err(DeskError::Forbidden(
                    "an agent manages only their own views: save it as yours".into(),
                ))
            }
            Some(o) => match self.store.agent_by_name(o)? {
                Some(_) => Ok(()),
                None => Err(DeskError::NotFound(format!(
                    "no agent named {}: see `sealdesk agent list`",
                    sanitize::line(o)
                ))),
            },
        }
    }

    /// Saves `query` as the view `name` of `owner` (`None`: shared), replacing one of
    /// that name.
    pub fn save_view(
        &self,
        actor: &Actor,
        owner: Option<&str>,
        name: &str,
        query: &ViewQuery,
    ) -> Result<SavedView> {
        check_name(name)?;
        self.may_manage_view(actor, owner)?;
        self.write(actor, &[Hold::Settings], |u| {
            let view = SavedView {
                name: name.to_string(),
                owner: owner.map(String::from),
                query: query.clone(),
                created_by: actor.name.clone(),
                updated: Timestamp::now(),
            };
            u.tx.put_saved_view(&view)?;
            u.audit("view.save", targets(owner, name), None);
            Ok(view)
        })
    }

    /// Renames a view, or moves it between shared and `actor`'s own (`to_owner`).
    fn move_view(
        &self,
        actor: &Actor,
        owner: Option<&str>,
        name: &str,
        to_owner: Option<&str>,
        to_name: &str,
        action: &str,
    ) -> Result<SavedView> {
        check_name(to_name)?;
        self.may_manage_view(actor, owner)?;
        self.may_manage_view(actor, to_owner)?;
        self.write(actor, &[Hold::Settings], |u| {
            let Some(mut view) = u.tx.store().saved_view(owner, name)? else {
                return Err(not_found(name));
            };
            if (owner, name) != (to_owner, to_name)
                && u.tx.store().saved_view(to_owner, to_name)?.is_some()
            {
                return Err(DeskError::Conflict(format!(
                    "a view named {:?} exists already there: pick another name",
                    sanitize::line(to_name)
                )));
            }
            u.tx.remove_saved_view(owner, name);
            view.name = to_name.to_string();
            view.owner = to_owner.map(String::from);
            view.updated = Timestamp::now();
            u.tx.put_saved_view(&view)?;
            let mut t = targets(owner, name);
            t.extend(targets(to_owner, to_name));
            u.audit(action, t, None);
            Ok(view)
        })
    }

    pub fn rename_view(
        &self,
        actor: &Actor,
        owner: Option<&str>,
        name: &str,
        new_name: &str,
    ) -> Result<SavedView> {
        self.move_view(actor, owner, name, owner, new_name, "view.rename")
    }

    /// Makes a view shared (`shared`), or `actor`'s own again: admins only.
    pub fn set_view_shared(
        &self,
        actor: &Actor,
        owner: Option<&str>,
        name: &str,
        shared: bool,
    ) -> Result<SavedView> {
        self.require_admin(actor, "share views")?;
        let to_owner = (!shared).then_some(actor.name.as_str());
        self.move_view(actor, owner, name, to_owner, name, "view.share")
    }

    pub fn remove_view(&self, actor: &Actor, owner: Option<&str>, name: &str) -> Result<SavedView> {
        self.may_manage_view(actor, owner)?;
        self.write(actor, &[Hold::Settings], |u| {
            let Some(view) = u.tx.store().saved_view(owner, name)? else {
                return Err(not_found(name));
            };
            u.tx.remove_saved_view(owner, name);
            u.audit("view.remove", targets(owner, name), None);
            Ok(view)
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::desk;
    use crate::{Actor, DeskError};
    use sealdesk_model::{AgentRole, ViewQuery};

    #[test]
    fn agents_keep_their_own_views_and_admins_the_shared_ones() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path());
        let cli = Actor::local_admin();
        for (seed, name, role) in [(1, "alice", AgentRole::Agent), (2, "bob", AgentRole::Admin)] {
            let line = crate::testing::public_key_line(seed);
            desk.add_agent(&cli, name, role, &[line]).unwrap();
        }
        let (alice, bob) = (
            Actor::agent("alice", None, "t"),
            Actor::agent("bob", None, "t"),
        );
        let q = ViewQuery::default();
        assert!(matches!(
            desk.save_view(&alice, None, "All", &q),
            Err(DeskError::Forbidden(_))
        ));
        assert!(matches!(
            desk.save_view(&alice, Some("bob"), "His", &q),
            Err(DeskError::Forbidden(_))
        ));
        desk.save_view(&alice, Some("alice"), "zeta", &q).unwrap();
        desk.save_view(&alice, Some("alice"), "alpha", &q).unwrap();
        desk.save_view(&bob, None, "Team", &q).unwrap();
        assert!(
            desk.save_view(&bob, None, "", &q).is_err(),
            "a name is needed"
        );
        let names: Vec<String> = desk
            .saved_views(&alice)
            .unwrap()
            .into_iter()
            .map(|v| v.name)
            .collect();
        assert_eq!(
            names,
            ["Team", "alpha", "zeta"],
            "shared first, then own, by name"
        );
        assert!(desk.remove_view(&alice, None, "Team").is_err());
        assert!(desk
            .set_view_shared(&alice, Some("alice"), "alpha", true)
            .is_err());
        // Bob shares his own view; renaming onto a taken name is refused.
        desk.save_view(&bob, Some("bob"), "Mine", &q).unwrap();
        let shared = desk
            .set_view_shared(&bob, Some("bob"), "Mine", true)
            .unwrap();
        assert!(shared.is_shared());
        assert!(matches!(
            desk.rename_view(&bob, None, "Mine", "Team"),
            Err(DeskError::Conflict(_))
        ));
        assert_eq!(desk.saved_views(&cli).unwrap().len(), 4, "the CLI sees all");
    }
}
