//! `sealdesk view list|add|remove`: saved queue views (Part 10), the ones agents switch
//! to with `1`…`9` in the queue and open with `ssh -t … queue VIEW`.

use super::output::{print_json, safe, Io};
use anyhow::{bail, Result};
use clap::Subcommand;
use sealdesk_desk::{Actor, Desk};
use sealdesk_model::{Status, ViewAssignee, ViewMarker, ViewQuery, ViewSort};

#[derive(Subcommand, Debug)]
pub enum ViewCommand {
    /// Every saved view: shared ones, then each agent's own, by name.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Save a view: shared with every agent (--shared) or one agent's own (--agent).
    /// The same name replaces it.
    Add {
        name: String,
        /// One status, or `all` (default: every status but closed).
        #[arg(long)]
        status: Option<String>,
        /// anyone, mine (whoever uses the view) or unassigned.
        #[arg(long, default_value = "anyone")]
        assignee: ViewAssignee,
        #[arg(long)]
        tag: Option<String>,
        /// Words that must all appear (as the queue's `/` search).
        #[arg(long)]
        search: Option<String>,
        /// updated, number, priority or due.
        #[arg(long, default_value = "updated")]
        sort: ViewSort,
        /// all, unread, replied (the customer wrote after our reply) or drafts.
        #[arg(long, default_value = "all")]
        marker: ViewMarker,
        #[arg(long, conflicts_with = "agent")]
        shared: bool,
        /// The agent whose own view it is.
        #[arg(long, value_name = "AGENT")]
        agent: Option<String>,
    },
    /// Delete a view: the shared one (--shared) or an agent's (--agent).
    Remove {
        name: String,
        #[arg(long, conflicts_with = "agent")]
        shared: bool,
        #[arg(long, value_name = "AGENT")]
        agent: Option<String>,
    },
}

/// Whose view: shared (`None`) or an agent's.
fn owner(shared: bool, agent: Option<String>) -> Result<Option<String>> {
    match (shared, agent) {
        (true, _) => Ok(None),
        (false, Some(agent)) => Ok(Some(agent)),
        (false, None) => {
            bail!("say whose view it is: --shared, or --agent NAME for one agent's own")
        }
    }
}

fn statuses(given: Option<&str>) -> Result<Vec<Status>> {
    Ok(match given.map(str::trim) {
        None | Some("not-closed") => Vec::new(),
        Some("all") => Status::ALL.to_vec(),
        Some(one) => vec![one
            .parse::<Status>()
            .map_err(|e| anyhow::anyhow!("{e}, or all, or not-closed"))?],
    })
}

pub(super) fn run(desk: &Desk, actor: &Actor, cmd: ViewCommand, io: &mut Io) -> Result<i32> {
    match cmd {
        ViewCommand::List { json } => {
            let views = desk.saved_views(actor)?;
            if json {
                let rows: Vec<_> = views
                    .iter()
                    .map(|v| {
                        serde_json::json!({
                            "name": v.name,
                            "owner": v.owner,
                            "statuses": v.query.statuses,
                            "assignee": v.query.assignee,
                            "tag": v.query.tag,
                            "search": v.query.text,
                            "sort": v.query.sort,
                            "marker": v.query.marker,
                        })
                    })
                    .collect();
                print_json(&mut io.out, &rows)?;
                return Ok(0);
            }
            if views.is_empty() {
                writeln!(
                    io.out,
                    "no saved views: `sealdesk view add NAME --shared …` saves one"
                )?;
            }
            for v in &views {
                let whose = match &v.owner {
                    None => "shared".to_string(),
                    Some(o) => format!("agent {o}"),
                };
                writeln!(io.out, "{}\t{whose}\t{}", safe(&v.name), describe(&v.query))?;
            }
            Ok(0)
        }
        ViewCommand::Add {
            name,
            status,
            assignee,
            tag,
            search,
            sort,
            marker,
            shared,
            agent,
        } => {
            let owner = owner(shared, agent)?;
            let query = ViewQuery {
                statuses: statuses(status.as_deref())?,
                assignee,
                tag: tag
                    .map(|t| t.trim().to_lowercase())
                    .filter(|t| !t.is_empty()),
                text: search.unwrap_or_default(),
                sort,
                marker,
            };
            let view = desk.save_view(actor, owner.as_deref(), &name, &query)?;
            writeln!(
                io.out,
                "saved view {}: {}",
                safe(&view.name),
                describe(&view.query)
            )?;
            Ok(0)
        }
        ViewCommand::Remove {
            name,
            shared,
            agent,
        } => {
            let owner = owner(shared, agent)?;
            let view = desk.remove_view(actor, owner.as_deref(), &name)?;
            writeln!(io.out, "removed view {}", safe(&view.name))?;
            Ok(0)
        }
    }
}

/// A view's filter in one line.
fn describe(q: &ViewQuery) -> String {
    let status = match q.statuses.as_slice() {
        [] => "not closed".to_string(),
        s if s.len() == Status::ALL.len() => "all".to_string(),
        s => s.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(","),
    };
    let mut out = format!("status {status} · {} · sort {}", q.assignee, q.sort);
    if let Some(tag) = &q.tag {
        out.push_str(&format!(" · tag {}", safe(tag)));
    }
    if q.marker != ViewMarker::All {
        out.push_str(&format!(" · {}", q.marker));
    }
    if !q.text.is_empty() {
        out.push_str(&format!(" · search {:?}", safe(&q.text)));
    }
    out
}
